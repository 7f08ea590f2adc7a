package io.kvcache.samples.chatbot;

import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.ChatResponse;

/**
 * A finished reply: the whole text, the ids that name the conversation, why generation stopped
 * and the tokens it took.
 *
 * @param conversation        the id to send with the next message
 * @param reply               the assistant's text
 * @param kvcacheConversation the conversation's KV cache in {@code /actuator/kvcache/{conversation}}
 * @param finishReason        {@code STOP} (end of turn or a stop sequence) or {@code LENGTH} (token limit)
 * @param usage               prompt and completion tokens of this turn
 */
record ChatReply(String conversation, String reply, String kvcacheConversation, String finishReason, TokenUsage usage) {

    /** Tokens of one turn: the whole rendered conversation, and the reply. */
    record TokenUsage(int promptTokens, int completionTokens) {
    }

    /** The reply to a turn, from the chat model's final response (which carries the metadata) and the text. */
    static ChatReply of(String conversation, String reply, ChatResponse last) {
        Usage usage = last.getMetadata().getUsage();
        return new ChatReply(conversation, reply, last.getMetadata().getId(),
                last.getResult().getMetadata().getFinishReason(),
                new TokenUsage(usage.getPromptTokens(), usage.getCompletionTokens()));
    }
}
