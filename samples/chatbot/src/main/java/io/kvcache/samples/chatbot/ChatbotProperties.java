package io.kvcache.samples.chatbot;

import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The {@code chatbot.*} properties.
 *
 * @param maxConversations transcripts kept in memory; the least recently used one is forgotten first
 * @param maxMessageChars  longest message accepted from the page, in characters
 * @param maxRequestBytes  largest request body read, in bytes; unset, {@link #requestBytesLimit()}
 *                         derives it from {@code maxMessageChars}
 */
@ConfigurationProperties("chatbot")
@Validated
public record ChatbotProperties(@DefaultValue("1000") @Min(1) int maxConversations,
                                @DefaultValue("4000") @Min(1) int maxMessageChars,
                                @Min(1) Long maxRequestBytes) {
    /** Room for the JSON around the message: braces, keys and a conversation id. */
    static final int ENVELOPE_BYTES = 1024;
    /** The most JSON bytes one message character may take: a {@code \}{@code uXXXX} escape. */
    static final int BYTES_PER_CHAR = 6;

    /** The configured limit, or one that fits the longest message written entirely in escapes. */
    long requestBytesLimit() {
        return maxRequestBytes != null ? maxRequestBytes : (long) maxMessageChars * BYTES_PER_CHAR + ENVELOPE_BYTES;
    }
}
