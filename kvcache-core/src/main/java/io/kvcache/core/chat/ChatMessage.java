package io.kvcache.core.chat;

import java.util.List;
import java.util.Objects;

/**
 * One turn of a conversation: its role ("system", "user", "assistant", "tool"...) and its text;
 * an assistant turn may carry the tool calls it made, and a tool turn names the call it answers.
 *
 * @param toolCalls  the tools an assistant turn called, in order; empty otherwise
 * @param toolCallId the id of the call a "tool" turn answers; null otherwise
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        toolCalls = List.copyOf(toolCalls);
    }

    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null);
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** An assistant turn that called tools (its text, often empty, before the calls). */
    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage("assistant", content, toolCalls, null);
    }

    /** A tool's answer to call {@code toolCallId}. */
    public static ChatMessage tool(String toolCallId, String content) {
        return new ChatMessage("tool", content, List.of(), Objects.requireNonNull(toolCallId, "toolCallId"));
    }
}
