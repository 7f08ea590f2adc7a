package io.kvcache.spring.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.chat.ChatTemplate;
import io.kvcache.core.chat.ToolDefinition;
import io.kvcache.core.model.Model;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.tensor.ComputePool;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.function.FunctionToolCallback;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A tool round as Spring AI carries it (the assistant's {@code ToolCall}s, a
 * {@code ToolResponseMessage}) renders through the model's template exactly as llama.cpp renders
 * the same conversation from OpenAI's JSON (chat-templates-all, {@code tools_call_result}), and the
 * reply's markup is held back from a stream.
 */
class ToolTurnRenderingTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void aToolRoundRendersAsLlamaCppRendersIt() throws IOException {
        Path referenceFile = SharedData.require("reference/chat-templates-all/Qwen-Qwen2.5-7B-Instruct.json");
        JsonNode reference = JSON.readTree(referenceFile);
        JsonNode render = reference.get("renders").values().stream()
                .filter(r -> r.get("name").asString().equals("tools_call_result")).findFirst().orElseThrow();
        ChatTemplate template = ChatTemplate.named("Qwen2.5", Files.readString(referenceFile.resolveSibling(
                reference.get("template").asString())), reference.get("bos_token").asString(),
                reference.get("eos_token").asString());
        Model model = Model.load(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"));
        try (model) {
            PromptRenderer renderer = new PromptRenderer(model.tokenizer(), Optional.of(template));
            JsonNode function = render.get("tools").get(0).get("function");
            ToolDefinition weather = new ToolDefinition(function.get("name").asString(),
                    function.get("description").asString(), JSON.writeValueAsString(function.get("parameters")));
            List<Message> round = List.of(new UserMessage("What is the weather in Paris?"),
                    AssistantMessage.builder().content("").toolCalls(List.of(new AssistantMessage.ToolCall("call_1",
                            "function", "get_weather", "{\"city\": \"Paris\"}"))).build(),
                    ToolResponseMessage.builder().responses(List.of(new ToolResponseMessage.ToolResponse("call_1",
                            "get_weather", "{\"temperature\": 18, \"unit\": \"celsius\"}"))).build());

            assertThat(renderer.text(round, List.of(weather))).isEqualTo(render.get("prompt").asString());
            assertThat(renderer.toolCallFormat()).hasValue(io.kvcache.core.chat.ToolCallFormat.HERMES);
        }
    }

    /**
     * Tools given to a ChatClient reach the prompt: the turn reads the template's render with their
     * definitions (qwen2-tiny's vocabulary with Qwen 2.5's template, which describes tools).
     */
    @Test
    void chatClientToolsAreRenderedIntoThePrompt() throws IOException {
        Model model = Model.load(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"));
        ChatTemplate template = qwen25Template();
        try (KvcacheEngine engine = new KvcacheEngine(model, new ComputePool(1), KvCacheConfig.full(), 1024, 1 << 24,
                Duration.ofMinutes(5))) {
            KvcacheChatModel chat = KvcacheChatModel.builder().engine(engine)
                    .renderer(new PromptRenderer(model.tokenizer(), Optional.of(template)))
                    .defaultOptions(KvcacheChatOptions.builder().temperature(0.0).maxTokens(4).build()).build();
            ToolCallback weather = FunctionToolCallback.builder("get_weather", (Map<String, String> in) -> "sunny")
                    .description("Current weather for a city.")
                    .inputSchema("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, "
                            + "\"required\": [\"city\"]}")
                    .inputType(Map.class).build();
            ChatResponse response = ChatClient.create(chat).prompt().user("What is the weather in Paris?")
                    .tools(weather).call().chatResponse();

            List<io.kvcache.core.chat.ChatMessage> user = List.of(io.kvcache.core.chat.ChatMessage.user(
                    "What is the weather in Paris?"));
            String withTools = template.render(user, List.of(new ToolDefinition("get_weather",
                    "Current weather for a city.", weather.getToolDefinition().inputSchema())), true);
            assertThat(withTools).contains("<tools>", "\"name\": \"get_weather\"");
            assertThat(response.getMetadata().getUsage().getPromptTokens())
                    .isEqualTo(model.tokenizer().encode(withTools, true, true).length);
        }
    }

    private static ChatTemplate qwen25Template() throws IOException {
        Path referenceFile = SharedData.require("reference/chat-templates-all/Qwen-Qwen2.5-7B-Instruct.json");
        JsonNode reference = JSON.readTree(referenceFile);
        return ChatTemplate.named("Qwen2.5", Files.readString(referenceFile.resolveSibling(
                reference.get("template").asString())), reference.get("bos_token").asString(),
                reference.get("eos_token").asString());
    }

    @Test
    void aModelWithoutATemplateIsNotOfferedTools() {
        Model model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        try (model) {
            PromptRenderer renderer = new PromptRenderer(model);
            assertThatThrownBy(() -> renderer.text(List.of(new UserMessage("hi")),
                    List.of(new ToolDefinition("f", "does f", "{\"type\": \"object\"}"))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no chat template");
        }
    }

    /** Text streams up to where a call may begin; the call's markup is held back whole. */
    @Test
    void aStreamShowsTheTextBeforeACallOnly() {
        ReplyText reply = new ReplyText(io.kvcache.core.chat.ToolCallFormat.HERMES);
        assertThat(reply.append("Sure")).isEqualTo("Sure");
        assertThat(reply.append(". <to")).isEqualTo(". ");
        assertThat(reply.append("ol_call>\n{\"name\": \"get_weather\"")).isEmpty();
        assertThat(reply.append("}</tool_call>")).isEmpty();
        assertThat(reply.heldBack()).isEqualTo("<tool_call>\n{\"name\": \"get_weather\"}</tool_call>");

        ReplyText plain = new ReplyText(io.kvcache.core.chat.ToolCallFormat.HERMES);
        assertThat(plain.append("a <t")).isEqualTo("a ");
        assertThat(plain.append("able>")).as("what began like a call's marker shows once it is none").isEqualTo("<table>");
        assertThat(new ReplyText(null).append("<tool_call>")).as("no tools offered: all text shows")
                .isEqualTo("<tool_call>");
    }
}
