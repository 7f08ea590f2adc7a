package io.kvcache.spring;

import io.kvcache.core.chat.ChatMessage;
import io.kvcache.core.chat.ChatTemplate;
import io.kvcache.core.model.Model;
import io.kvcache.core.tokenizer.Tokenizer;
import org.springframework.ai.chat.messages.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Spring AI messages to prompt tokens. With the model's own chat template (GGUF
 * {@code tokenizer.chat_template}, or the HF folder's) the conversation is rendered by it, ending
 * with the assistant's turn, and tokenized with special tokens parsed. A model without a template
 * (a base model such as TinyStories) gets the messages' text, one per line: the continuation is
 * the reply.
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

    public int[] tokens(List<Message> messages) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("the prompt has no messages");
        }
        if (template.isPresent()) {
            List<ChatMessage> conversation = new ArrayList<>();
            for (Message m : messages) {
                conversation.add(new ChatMessage(m.getMessageType().getValue(), m.getText() == null ? "" : m.getText()));
            }
            return tokenizer.encode(template.get().render(conversation, true), true, true);
        }
        StringBuilder text = new StringBuilder();
        for (Message m : messages) {
            if (!text.isEmpty()) {
                text.append('\n');
            }
            text.append(m.getText() == null ? "" : m.getText());
        }
        return tokenizer.encode(text.toString(), true, false);
    }
}
