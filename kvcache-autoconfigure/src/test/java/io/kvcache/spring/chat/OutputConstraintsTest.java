package io.kvcache.spring.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.chat.ToolCallFormat;
import io.kvcache.core.chat.ToolDefinition;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.grammar.TokenConstraint;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With tools offered and the default tool choice, formats whose calls are bare JSON (Llama 3, the
 * generic one) get a lazy constraint too: a reply that opens as a call is held to the call format
 * and the tool's schema, and prose, braces in it included, stays free (qwen2-tiny's vocabulary).
 */
class OutputConstraintsTest {
    private static final List<ToolDefinition> TOOLS = List.of(new ToolDefinition("add", "Adds two numbers", """
            {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}"""));

    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        try (GgufFile file = GgufFile.open(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"))) {
            tokenizer = Tokenizers.fromGguf(file.metadata());
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "LLAMA3  | '{\"name\": \"add\", \"parameters\": {\"a\": 1, \"b\": 2}}'",
            "GENERIC | '{\"tool_calls\": [{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}]}'"})
    void aReplyOpeningAsABareJsonCallIsHeldToTheToolsSchema(ToolCallFormat format, String call) {
        OutputConstraints constraints = new OutputConstraints(tokenizer);
        KvcacheChatOptions auto = KvcacheChatOptions.builder().build();

        TokenConstraint calling = constraints.forTurn(auto, TOOLS, format, false).orElseThrow();
        String opening = call.substring(0, call.indexOf("\"a\""));
        feed(calling, " " + opening);
        float[] logits = new float[tokenizer.vocabularySize()];
        calling.mask(logits, 0, logits.length, 100);
        assertThat(logits[tokenizer.encode("\"a", false, false)[0]]).as("the argument the schema names").isZero();
        assertThat(logits[tokenizer.encode("Sure", false, false)[0]]).as("prose inside the call").isEqualTo(Float.NEGATIVE_INFINITY);
        feed(calling, call.substring(opening.length()));
        assertThat(calling.isAccepting()).isTrue();

        TokenConstraint prose = constraints.forTurn(auto, TOOLS, format, false).orElseThrow();
        feed(prose, "Sure: " + call);
        float[] free = new float[tokenizer.vocabularySize()];
        prose.mask(free, 0, free.length, 100);
        assertThat(free).as("a call written inside prose is not held").containsOnly(0f);
    }

    private static void feed(TokenConstraint constraint, String text) {
        for (int token : tokenizer.encode(text, false, true)) {
            constraint.accept(token);
        }
    }
}
