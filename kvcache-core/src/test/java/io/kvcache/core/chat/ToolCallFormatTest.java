package io.kvcache.core.chat;

import io.kvcache.core.SharedData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tool calls read out of replies written as the models' own templates write them: the call texts
 * here are those of llama.cpp's renders of a {@code get_weather} call (chat-templates-all,
 * {@code tools_call_result}), and the formats are found from the real templates.
 */
class ToolCallFormatTest {
    private static final ToolDefinition WEATHER = new ToolDefinition("get_weather", "Current weather for a city.",
            "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"unit\": {\"type\": \"string\"}},"
                    + " \"required\": [\"city\"]}");
    private static final List<ToolDefinition> TOOLS = List.of(WEATHER);

    private static ToolCallFormat formatOf(String template) throws IOException {
        return ToolCallFormat.of(Files.readString(SharedData.require("reference/chat-templates-all/" + template)));
    }

    @Test
    void theFormatIsTheOneTheTemplateTeaches() throws IOException {
        assertThat(formatOf("Qwen-Qwen2.5-7B-Instruct.jinja")).isEqualTo(ToolCallFormat.HERMES);
        assertThat(formatOf("Qwen-Qwen3-0.6B.jinja")).isEqualTo(ToolCallFormat.HERMES);
        assertThat(formatOf("meta-llama-Llama-3.2-3B-Instruct.jinja")).isEqualTo(ToolCallFormat.LLAMA3);
        assertThat(formatOf("mistralai-Mistral-Nemo-Instruct-2407.jinja")).isEqualTo(ToolCallFormat.MISTRAL);
        assertThat(formatOf("unsloth-mistral-Devstral-Small-2507.jinja")).isEqualTo(ToolCallFormat.MISTRAL);
        assertThat(formatOf("ibm-granite-granite-3.3-2B-Instruct.jinja")).isEqualTo(ToolCallFormat.GRANITE);
        assertThat(formatOf("microsoft-Phi-3.5-mini-instruct.jinja")).isEqualTo(ToolCallFormat.GENERIC);
    }

    @Test
    void hermesCallsFollowTheText() {
        ToolCallFormat.Reply reply = ToolCallFormat.HERMES.parse("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", "
                + "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", "
                + "\"arguments\": {\"city\": \"Oslo\", \"unit\": \"celsius\"}}\n</tool_call>", TOOLS);
        assertThat(reply.text()).isEqualTo("Let me check.");
        assertThat(reply.calls()).extracting(ToolCall::name, ToolCall::arguments).containsExactly(
                org.assertj.core.groups.Tuple.tuple("get_weather", "{\"city\":\"Paris\"}"),
                org.assertj.core.groups.Tuple.tuple("get_weather", "{\"city\":\"Oslo\",\"unit\":\"celsius\"}"));
        assertThat(reply.calls()).extracting(ToolCall::id).allMatch(id -> id.matches("[A-Za-z0-9]{9}"))
                .doesNotHaveDuplicates();
    }

    @Test
    void llamaCallsAreBareJsonWithParametersOrAfterThePythonTag() {
        assertThat(ToolCallFormat.LLAMA3.parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", TOOLS)
                .calls()).extracting(ToolCall::arguments).containsExactly("{\"city\":\"Paris\"}");
        assertThat(ToolCallFormat.LLAMA3.parse("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": "
                + "{\"city\": \"Paris\"}}", TOOLS).calls()).hasSize(1);
        assertThat(ToolCallFormat.LLAMA3.parse("Paris is sunny.", TOOLS)).isEqualTo(new ToolCallFormat.Reply("Paris is sunny.", List.of()));
    }

    @Test
    void mistralCallsAreAListOrNameAndArgs() {
        assertThat(ToolCallFormat.MISTRAL.parse("[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                + "\"Paris\"}, \"id\": \"abcDEF123\"}]", TOOLS).calls())
                .containsExactly(new ToolCall("abcDEF123", "get_weather", "{\"city\":\"Paris\"}"));
        assertThat(ToolCallFormat.MISTRAL.parse("[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", TOOLS).calls())
                .extracting(ToolCall::name, ToolCall::arguments)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("get_weather", "{\"city\":\"Paris\"}"));
    }

    @Test
    void graniteAndGenericCalls() {
        assertThat(ToolCallFormat.GRANITE.parse("<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"Paris\"}}]", TOOLS).calls()).hasSize(1);
        assertThat(ToolCallFormat.GENERIC.parse("{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"Paris\"}}, {\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Rome\\\"}\"}]}",
                TOOLS).calls()).extracting(ToolCall::arguments)
                .containsExactly("{\"city\":\"Paris\"}", "{\"city\":\"Rome\"}");
        assertThat(ToolCallFormat.GENERIC.parse("{\"answer\": 42}", TOOLS).calls()).as("JSON that is no call is text")
                .isEmpty();
        assertThat(ToolCallFormat.GENERIC.parse("{\"name\": \"Bob\", \"age\": 3}", TOOLS))
                .as("an answer asked for as JSON, with a name").isEqualTo(new ToolCallFormat.Reply(
                        "{\"name\": \"Bob\", \"age\": 3}", List.of()));
        assertThat(ToolCallFormat.LLAMA3.parse("{not json", TOOLS).calls()).isEmpty();
    }

    @Test
    void callsThatCannotBeMadeAreNamedErrors() {
        assertThatThrownBy(() -> ToolCallFormat.HERMES.parse("<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>",
                TOOLS)).isInstanceOf(ToolCallException.class).hasMessageContaining("rm_rf").hasMessageContaining("get_weather");
        assertThatThrownBy(() -> ToolCallFormat.HERMES.parse("<tool_call>{\"name\": \"get_weather\", \"arguments\": "
                + "{\"unit\": \"celsius\"}}</tool_call>", TOOLS)).isInstanceOf(ToolCallException.class)
                .hasMessageContaining("required argument \"city\"");
        assertThatThrownBy(() -> ToolCallFormat.HERMES.parse("<tool_call>{\"name\": \"get_weather\", \"arguments\": [1]}"
                + "</tool_call>", TOOLS)).isInstanceOf(ToolCallException.class).hasMessageContaining("JSON object");
        assertThatThrownBy(() -> ToolCallFormat.HERMES.parse("<tool_call>{\"name\": get_weather}</tool_call>", TOOLS))
                .isInstanceOf(ToolCallException.class).hasMessageContaining("not valid JSON");
    }

    /** While streaming, text shows up to where a call may begin, even a marker still arriving piece by piece. */
    @Test
    void markupIsHeldBackWhileStreaming() {
        assertThat(ToolCallFormat.HERMES.markupStart("Sure. <tool")).isEqualTo(6);
        assertThat(ToolCallFormat.HERMES.markupStart("Sure. <tool_call>{\"na")).isEqualTo(6);
        assertThat(ToolCallFormat.HERMES.markupStart("a < b")).isEqualTo(5);
        assertThat(ToolCallFormat.LLAMA3.markupStart("  {\"name\"")).isEqualTo(2);
        assertThat(ToolCallFormat.GENERIC.markupStart("Hello")).isEqualTo(5);
        assertThat(ToolCallFormat.MISTRAL.markupStart("ok [TOOL_")).isEqualTo(3);
    }
}
