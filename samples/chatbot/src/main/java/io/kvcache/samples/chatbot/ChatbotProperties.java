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
 */
@ConfigurationProperties("chatbot")
@Validated
public record ChatbotProperties(@DefaultValue("1000") @Min(1) int maxConversations,
                                @DefaultValue("4000") @Min(1) int maxMessageChars) {
}
