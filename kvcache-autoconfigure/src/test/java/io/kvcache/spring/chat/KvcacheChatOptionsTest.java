package io.kvcache.spring.chat;

import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.model.tool.StructuredOutputChatOptions;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A request's options laid over the defaults, and Spring AI's builder merge keeping the engine's own settings. */
class KvcacheChatOptionsTest {
    private static final KvcacheChatOptions DEFAULTS = KvcacheChatOptions.builder().model("m").temperature(0.7).topP(0.95)
            .topK(40).minP(0.05).maxTokens(512).repetitionPenalty(1.0).stopSequences(List.of("END")).build();

    @Test
    void aPortableRequestOverridesOnlyWhatItSets() {
        KvcacheChatOptions merged = DEFAULTS.overlay(ChatOptions.builder().temperature(0.0).maxTokens(8).build());
        assertThat(merged.getTemperature()).isEqualTo(0.0);
        assertThat(merged.getMaxTokens()).isEqualTo(8);
        assertThat(merged.getTopP()).isEqualTo(0.95);
        assertThat(merged.getTopK()).isEqualTo(40);
        assertThat(merged.getMinP()).isEqualTo(0.05);
        assertThat(merged.getStopSequences()).containsExactly("END");
        assertThat(merged.getModel()).isEqualTo("m");
    }

    @Test
    void aKvcacheRequestAlsoCarriesTheEngineSettings() {
        KvcacheChatOptions merged = DEFAULTS.overlay(KvcacheChatOptions.builder().minP(0.2).seed(42L)
                .repetitionPenalty(1.3).build());
        assertThat(merged.getMinP()).isEqualTo(0.2);
        assertThat(merged.getSeed()).isEqualTo(42L);
        assertThat(merged.getRepetitionPenalty()).isEqualTo(1.3);
        assertThat(merged.getTemperature()).isEqualTo(0.7);
        assertThat(DEFAULTS.overlay(null)).isSameAs(DEFAULTS);
    }

    /** ChatClient merges a request into {@code chatModel.getOptions().mutate()} with combineWith, then builds. */
    @Test
    void theChatClientMergeKeepsMinPSeedAndRepetitionPenalty() {
        ChatOptions built = DEFAULTS.mutate().combineWith(KvcacheChatOptions.builder().seed(7L).topK(5)).build();
        assertThat(built).isInstanceOf(KvcacheChatOptions.class);
        KvcacheChatOptions options = (KvcacheChatOptions) built;
        assertThat(options.getSeed()).isEqualTo(7L);
        assertThat(options.getTopK()).isEqualTo(5);
        assertThat(options.getMinP()).isEqualTo(0.05);
        assertThat(options.getRepetitionPenalty()).isEqualTo(1.0);
        assertThat(options.mutate().build()).isEqualTo(options);
    }

    @Test
    void penaltiesTheEngineDoesNotHaveAreNotReported() {
        KvcacheChatOptions options = DEFAULTS.mutate().frequencyPenalty(0.5).presencePenalty(0.5).build();
        assertThat(options.getFrequencyPenalty()).isNull();
        assertThat(options.getPresencePenalty()).isNull();
    }

    /** What the reply is held to: Spring AI's output schema from any structured-output options, a grammar from kvcache's. */
    @Test
    void theOutputSchemaGrammarAndToolChoiceAreLaidOver() {
        KvcacheChatOptions schema = DEFAULTS.overlay(StructuredOutputChatOptions.builder()
                .outputSchema("{\"type\": \"string\"}").build());
        assertThat(schema.getOutputSchema()).isEqualTo("{\"type\": \"string\"}");
        assertThat(schema.getGrammar()).isNull();
        KvcacheChatOptions grammar = schema.overlay(KvcacheChatOptions.builder().grammar("root ::= \"a\"")
                .toolChoice(KvcacheChatOptions.ToolChoice.REQUIRED).build());
        assertThat(grammar.getGrammar()).isEqualTo("root ::= \"a\"");
        assertThat(grammar.getOutputSchema()).as("a grammar replaces the schema").isNull();
        assertThat(grammar.getToolChoice()).isEqualTo(KvcacheChatOptions.ToolChoice.REQUIRED);
        // ChatModelCallAdvisor sets the schema on a copy of the request's options, as ChatClient.entity does.
        KvcacheChatOptions entity = ((KvcacheChatOptions) DEFAULTS.mutate().outputSchema("{}").build());
        assertThat(entity.getOutputSchema()).isEqualTo("{}");
        assertThat(entity.getMinP()).isEqualTo(0.05);
        assertThatThrownBy(() -> KvcacheChatOptions.builder().outputSchema("{}").grammar("root ::= \"a\"").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not both");
    }
}
