package io.kvcache.core.chat;

import java.util.Objects;

/**
 * A call the model made to a tool: the call's id (answered by a "tool" turn), the tool's name and
 * its arguments as a JSON object's text, as OpenAI's API and Spring AI carry them.
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }
}
