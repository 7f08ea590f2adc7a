package io.kvcache.core.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.model.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChatTemplateTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * The eight templates of the first references, and the 56 of llama.cpp's corpus with tool-use
     * renders: every render byte-identical to llama.cpp's, or refused, with the template's own
     * message, where llama.cpp refused it.
     */
    private static final List<String> REFERENCES = List.of("reference/chat-templates", "reference/chat-templates-all");

    /** The reference JSONs; where the shared data is absent, its folder alone, so that the test skips naming it. */
    static Stream<String> referenceJsons() throws IOException {
        List<String> jsons = new ArrayList<>();
        for (String folder : REFERENCES) {
            Path dir = SharedData.root().resolve(folder);
            if (!Files.isDirectory(dir)) {
                jsons.add(folder);
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".json")).sorted()
                        .map(f -> folder + "/" + f).forEach(jsons::add);
            }
        }
        return jsons.stream();
    }

    /**
     * Each render of a reference JSON, with the template, the BOS/EOS texts and BOS flag of the
     * vocabulary llama.cpp's server used, and a clock at the render date: the tools and tool calls
     * of the tool-use renders included, and refused where llama.cpp refused.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("referenceJsons")
    void rendersWhatLlamaCppRenders(String referenceJson) throws IOException {
        Path file = SharedData.require(referenceJson);
        JsonNode reference = JSON.readTree(file);
        String templateFile = reference.get("template").asString();
        Clock renderDay = Clock.fixed(Instant.parse(reference.get("rendered_on_utc").asString() + "T12:00:00Z"),
                ZoneOffset.UTC);
        ChatTemplate template = ChatTemplate.named(templateFile, Files.readString(file.resolveSibling(templateFile)),
                        reference.get("bos_token").asString(), reference.get("eos_token").asString())
                .withClock(renderDay)
                .forTokenizerAdding(reference.get("vocab_add_bos").asBoolean(), false);
        assertThat(reference.get("renders").values()).isNotEmpty();
        Set<String> differing = new TreeSet<>();
        for (JsonNode render : reference.get("renders")) {
            List<ChatMessage> messages = render.get("messages").values().stream().map(ChatTemplateTest::message).toList();
            List<ToolDefinition> tools = render.has("tools")
                    ? render.get("tools").values().stream().map(ChatTemplateTest::tool).toList() : List.of();
            boolean generationPrompt = render.get("add_generation_prompt").asBoolean();
            String name = render.get("name").asString();
            try {
                String prompt = template.render(messages, tools, generationPrompt);
                if (render.has("error") || !prompt.equals(render.get("prompt").asString())) {
                    differing.add(name);
                }
            } catch (ChatTemplateException e) {
                if (!render.has("error") || !e.getMessage().contains(raisedMessage(render.get("error").asString()))) {
                    differing.add(name);
                }
            }
        }
        assertThat(differing).as("renders of %s that differ from llama.cpp's", templateFile)
                .isEmpty();
    }

    /** The message a template raised in llama.cpp's error text ("... Jinja Exception: MESSAGE"}}), or all of it. */
    private static String raisedMessage(String error) {
        Matcher raised = Pattern.compile("Jinja Exception: ([^\"]*)\"").matcher(error);
        return raised.find() ? raised.group(1) : error;
    }

    /** A message as OpenAI's API sends it: role, content, tool calls with JSON-text arguments, tool_call_id. */
    private static ChatMessage message(JsonNode m) {
        List<ToolCall> calls = m.has("tool_calls") ? m.get("tool_calls").values().stream()
                .map(c -> new ToolCall(c.get("id").asString(), c.get("function").get("name").asString(),
                        c.get("function").get("arguments").asString()))
                .toList() : List.of();
        String toolCallId = m.has("tool_call_id") ? m.get("tool_call_id").asString() : null;
        return new ChatMessage(m.get("role").asString(), m.get("content").asString(), calls, toolCallId);
    }

    private static ToolDefinition tool(JsonNode t) {
        JsonNode function = t.get("function");
        return new ToolDefinition(function.get("name").asString(), function.get("description").asString(),
                JSON.writeValueAsString(function.get("parameters")));
    }

    @Test
    void ggufModelRendersWithItsEmbeddedTemplate() {
        try (Model model = Model.load(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"))) {
            ChatTemplate template = model.chatTemplate().orElseThrow();
            assertThat(template.render(List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi!")), true))
                    .isEqualTo("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
                            + "<|im_start|>assistant\n");
            assertThat(template.render(List.of(ChatMessage.user("Hi!")), false))
                    .isEqualTo("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n");
        }
    }

    @Test
    void huggingFaceFolderWithoutTemplateHasNone() {
        try (Model model = Model.load(SharedData.require("models/tiny/tinystories-656k-hf"))) {
            assertThat(model.chatTemplate()).isEmpty();
        }
    }

    @Test
    void templateThatDoesNotParseIsNamedWithTheProblem() {
        assertThatThrownBy(() -> ChatTemplate.named("unclosed.jinja", "{% for m in messages %}{{ m.content }}", "", ""))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageStartingWith("unclosed.jinja does not parse: line 1: ")
                .hasMessageContaining("endfor");
        assertThatThrownBy(() -> ChatTemplate.named("bad-expression.jinja", "\n{{ messages[0]['content' }}", "", ""))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageStartingWith("bad-expression.jinja does not parse: line 2: ");
    }

    @Test
    void raiseExceptionRejectsTheConversationWithTheTemplatesMessage() {
        ChatTemplate strict = ChatTemplate.named("strict.jinja", """
                {%- if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}
                {%- for m in messages %}{{ m.content }}{% endfor %}""", "", "");
        assertThat(strict.render(List.of(ChatMessage.user("Hi")), false)).isEqualTo("Hi");
        assertThatThrownBy(() -> strict.render(List.of(ChatMessage.assistant("Hello")), false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("strict.jinja rejected the conversation: Conversations must start with a user message");
    }

    @Test
    void renderFailureNamesTheTemplateAndTheProblem() {
        ChatTemplate template = ChatTemplate.named("typo.jinja", "{{ messages[0].content.strip().nosuch() }}", "", "");
        assertThatThrownBy(() -> template.render(List.of(ChatMessage.user("Hi")), false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageStartingWith("typo.jinja failed to render: line 1: ")
                .hasMessageContaining("nosuch");
    }

    @Test
    void messageTextIsNeverRunAsTemplateCode() {
        ChatTemplate template = ChatTemplate.of("{% for m in messages %}{{ m.content }}{% endfor %}", "<s>", "</s>");
        String text = "{{ bos_token }}{% if true %}x{% endif %}{{ raise_exception('no') }}";
        assertThat(template.render(List.of(ChatMessage.user(text)), false)).isEqualTo(text);
    }

    @Test
    void systemMessagesFoldIntoUserMessagesWhenTheTemplateRejectsThem() {
        ChatTemplate noSystem = ChatTemplate.of("""
                {%- for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}
                {{- '[' + m.role + ':' + m.content + ']' }}{% endfor %}""", "", "");
        assertThat(noSystem.render(List.of(ChatMessage.system("A"), ChatMessage.system("B"), ChatMessage.user("Q")), false))
                .isEqualTo("[user:A\nB\nQ]");
        assertThat(noSystem.render(List.of(ChatMessage.system("A"), ChatMessage.assistant("X"), ChatMessage.user("Y"),
                ChatMessage.system("C")), false))
                .isEqualTo("[user:A][assistant:X][user:Y][user:C]");
    }

    @Test
    void toolCallArgumentsAreAnObjectOnlyForTemplatesThatReadThem() {
        List<ChatMessage> call = List.of(ChatMessage.assistant("", List.of(new ToolCall("c1", "get_weather", "{\"city\": \"Paris\"}"))));
        ChatTemplate iterating = ChatTemplate.of("{% for m in messages %}{% for k, v in m.tool_calls[0].function.arguments.items() %}"
                + "{{ k }}={{ v }}{% endfor %}{% endfor %}", "", "");
        assertThat(iterating.render(call, false)).isEqualTo("city=Paris");
        ChatTemplate dumping = ChatTemplate.of("{% for m in messages %}{{ m.tool_calls[0].function.arguments|tojson }}{% endfor %}",
                "", "");
        assertThat(dumping.render(call, false)).isEqualTo("{\"city\": \"Paris\"}");
        ChatTemplate printing = ChatTemplate.of("{% for m in messages %}{{ '>>>' + m.tool_calls[0].function.arguments }}{% endfor %}",
                "", "");
        assertThat(printing.render(call, false)).isEqualTo(">>>{\"city\": \"Paris\"}");
    }

    @Test
    void earlierTurnsReasoningIsKeptAsLlamaCppsServerKeepsIt() {
        ChatTemplate template = ChatTemplate.of("{% if preserve_thinking and not clear_thinking and not drop_thinking %}kept{% endif %}",
                "", "");
        assertThat(template.render(List.of(ChatMessage.user("hi")), false)).isEqualTo("kept");
    }

    @Test
    void todaysDateIsGivenAsLlamaCppGivesIt() {
        ChatTemplate template = ChatTemplate.of("{{ datetime }}|{{ date_string }}", "", "")
                .withClock(Clock.fixed(Instant.parse("2026-12-04T12:00:00Z"), ZoneOffset.UTC));
        assertThat(template.render(List.of(ChatMessage.user("hi")), false)).isEqualTo("Dec 04 2026|04 Dec 2026");
    }

    @Test
    void gemma4sFirstTemplateReadsToolAnswersFromTheModelTurn() {
        ChatTemplate template = ChatTemplate.of("""
                {%- for m in messages %}[{{ m.role }}{% for r in m.tool_responses or [] %}:{{ r.name }}=
                {{- r.response.t if r.response is mapping else r.response }}{% endfor %}|{{ m.content }}]{% endfor %}
                {%- if add_generation_prompt %}{{ '<turn|>\\n' }}{% endif %}{% if false %}{{ '<|tool_call>call:' }}{% endif %}""",
                "", "");
        List<ChatMessage> round = List.of(ChatMessage.user("q"),
                ChatMessage.assistant("", List.of(new ToolCall("c1", "get_weather", "{}"), new ToolCall("c2", "get_time", "{}"))),
                ChatMessage.tool("c1", "{\"t\": 18}"), ChatMessage.tool("c2", "noon"), ChatMessage.assistant("done"),
                ChatMessage.user("thanks"));
        assertThat(template.render(round, false)).isEqualTo("[user|q][assistant:get_weather=18:get_time=noon|done][user|thanks]");
        assertThat(template.render(List.of(ChatMessage.user("q")), true)).isEqualTo("[user|q]<turn|>\n<|turn>model\n");
    }

    @Test
    void bosAndEosTheTokenizerAddsAreLeftOut() {
        ChatTemplate template = ChatTemplate.of("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}",
                "<s>", "</s>");
        List<ChatMessage> hi = List.of(ChatMessage.user("hi"));
        assertThat(template.render(hi, false)).isEqualTo("<s>hi</s>");
        assertThat(template.forTokenizerAdding(true, false).render(hi, false)).isEqualTo("hi</s>");
        assertThat(template.forTokenizerAdding(true, true).render(hi, false)).isEqualTo("hi");
    }
}
