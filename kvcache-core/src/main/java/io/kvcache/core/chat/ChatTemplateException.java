package io.kvcache.core.chat;

/**
 * A chat template that cannot be parsed or rendered, or that rejected the conversation through
 * {@code raise_exception}. The message names the template and the problem.
 */
public class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
