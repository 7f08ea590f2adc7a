package io.kvcache.spring.chat;

/**
 * A turn could not start: no conversation slot ({@code kvcache.sessions.max-active}), or not
 * enough of {@code kvcache.memory.budget}, became free within {@code kvcache.sessions.max-wait}.
 * The message says which.
 */
public class ConversationLimitException extends IllegalStateException {
    public ConversationLimitException(String message) {
        super(message);
    }
}
