package io.kvcache.core.chat;

/**
 * The model wrote a tool call that cannot be made: a tool it was not offered, arguments that are
 * not a JSON object, or arguments missing what the tool's schema requires. The message names the
 * tool and what was wrong.
 */
public class ToolCallException extends RuntimeException {
    public ToolCallException(String message) {
        super(message);
    }
}
