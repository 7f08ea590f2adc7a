package io.kvcache.spring.chat;

import io.kvcache.core.chat.ChatMessage;
import io.kvcache.core.chat.ChatTemplate;
import io.kvcache.core.model.Model;
import io.kvcache.core.tokenizer.Tokenizer;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.MessageType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Spring AI messages to prompt text and tokens. With the model's own chat template (GGUF
 * {@code tokenizer.chat_template}, or the HF folder's) the conversation is rendered by it, ending
 * with the assistant's turn, and tokenized with special tokens parsed. A model without a template
 * (a base model such as TinyStories) gets the messages' text, each on a new line except the
 * assistant's: a reply was generated right after the text before it, so it continues that text,
 * and the continuation of the prompt is the next reply. Either way a follow-up turn's text starts
 * with the earlier turn's text followed by its reply.
 */
public final class PromptRenderer {
    private final Tokenizer tokenizer;
    private final Optional<ChatTemplate> template;

    public PromptRenderer(Model model) {
        this.tokenizer = model.tokenizer();
        this.template = model.chatTemplate();
    }

    /** Whether the model brings its own chat template. */
    public boolean hasTemplate() {
        return template.isPresent();
    }

    /** The conversation as the text the model reads. */
    public String text(List<Message> messages) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("the prompt has no messages");
        }
        if (template.isPresent()) {
            List<ChatMessage> conversation = new ArrayList<>();
            for (Message m : messages) {
                conversation.add(new ChatMessage(m.getMessageType().getValue(), textOf(m)));
            }
            return template.get().render(conversation, true);
        }
        StringBuilder text = new StringBuilder();
        for (Message m : messages) {
            if (!text.isEmpty() && m.getMessageType() != MessageType.ASSISTANT) {
                text.append('\n');
            }
            text.append(textOf(m));
        }
        return text.toString();
    }

    /** The conversation's tokens, its text encoded from the start (with BOS as the vocabulary says). */
    public int[] tokens(List<Message> messages) {
        return tokens(text(messages));
    }

    int[] tokens(String text) {
        return tokenizer.encode(text, true, hasTemplate());
    }

    /**
     * The tokens of {@code text}, which extends {@code held}: its ids followed by the encoding of only
     * the rest, as text that continues (no BOS, no prefix space where the rest begins).
     */
    int[] tokens(String text, ConversationText held) {
        int[] rest = tokenizer.encodeContinuation(text.substring(held.text().length()), hasTemplate());
        return IntStream.concat(Arrays.stream(held.tokens()), Arrays.stream(rest)).toArray();
    }

    private static String textOf(Message message) {
        return message.getText() == null ? "" : message.getText();
    }
}
