package io.kvcache.spring.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.chat.ChatTemplate;
import io.kvcache.core.generate.FinishReason;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A whole tool round through {@code ChatClient} with a {@code @Tool} method, on a random-weight
 * model (qwen2-tiny's vocabulary with Qwen 2.5's template, which describes tools) that calls the
 * tool because {@code toolChoice} REQUIRED holds its first reply to the call format and the tool's
 * parameter schema: the call is parsed, Spring AI's advisor runs the tool, its result is rendered
 * into the next turn, which answers; usage is summed over both rounds, and the second round
 * continues the first one's cache, evaluating only the tool result's text.
 */
class ToolRoundTripTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    static final class Thermometer {
        final List<String> cities = new CopyOnWriteArrayList<>();

        @Tool(description = "The temperature in a city now, in degrees Celsius")
        int temperature(@ToolParam(description = "the city's name") String city) {
            cities.add(city);
            return 18;
        }
    }

    private record Turn(int promptTokens, int generated, int reused, FinishReason reason) {
    }

    @Test
    void aRequiredCallRunsTheToolAndTheAnswerContinuesTheCache() throws IOException {
        Model model = Model.load(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"));
        List<Turn> turns = new CopyOnWriteArrayList<>();
        try (KvcacheEngine engine = new KvcacheEngine(model, new ComputePool(2), KvCacheConfig.full(), 1024, 1 << 24,
                Duration.ofMinutes(5))) {
            KvcacheChatModel chat = KvcacheChatModel.builder().engine(engine)
                    .renderer(new PromptRenderer(model.tokenizer(), Optional.of(qwen25Template())))
                    .defaultOptions(KvcacheChatOptions.builder().temperature(1.0).seed(3L).maxTokens(96).build())
                    .turnObserver((firstToken, result, reused) -> turns.add(new Turn(
                            result.promptTokens().length + reused, result.tokens().length, reused, result.finishReason())))
                    .build();
            Thermometer thermometer = new Thermometer();
            ChatResponse response = ChatClient.create(chat).prompt().user("How warm is it in Paris?")
                    .tools(thermometer)
                    .options(KvcacheChatOptions.builder().toolChoice(KvcacheChatOptions.ToolChoice.REQUIRED))
                    .call().chatResponse();

            assertThat(thermometer.cities).as("the tool ran once, with the argument its schema asks for").hasSize(1);
            assertThat(turns).hasSize(2);
            Turn call = turns.get(0);
            Turn answer = turns.get(1);
            assertThat(call.reason()).isIn(FinishReason.DOCUMENT_COMPLETE, FinishReason.END_OF_GENERATION);
            // The call's last token (or its end of generation) was sampled but not read; everything before is reused.
            assertThat(answer.reused()).isEqualTo(call.promptTokens() + call.generated() - 1);
            assertThat(response.getResult().getOutput().hasToolCalls()).isFalse();
            assertThat(response.getMetadata().getUsage().getPromptTokens())
                    .isEqualTo(call.promptTokens() + answer.promptTokens());
            assertThat(response.getMetadata().getUsage().getCompletionTokens())
                    .isEqualTo(call.generated() + answer.generated());
        }
    }

    static ChatTemplate qwen25Template() throws IOException {
        Path referenceFile = SharedData.require("reference/chat-templates-all/Qwen-Qwen2.5-7B-Instruct.json");
        JsonNode reference = JSON.readTree(referenceFile);
        return ChatTemplate.named("Qwen2.5", Files.readString(referenceFile.resolveSibling(
                reference.get("template").asString())), reference.get("bos_token").asString(),
                reference.get("eos_token").asString());
    }
}
