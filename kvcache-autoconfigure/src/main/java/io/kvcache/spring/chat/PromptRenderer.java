package io.kvcache.spring.chat;

import io.kvcache.core.chat.ChatMessage;
import io.kvcache.core.chat.ChatTemplate;
import io.kvcache.core.chat.ToolCall;
import io.kvcache.core.chat.ToolCallFormat;
import io.kvcache.core.chat.ToolDefinition;
import io.kvcache.core.model.Model;
import io.kvcache.core.tokenizer.Tokenizer;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.MessageType;
import org.springframework.ai.chat.messages.ToolResponseMessage;

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
        this(model.tokenizer(), model.chatTemplate());
    }

    /** A renderer with another template than the model's (tests render llama.cpp's reference templates). */
    PromptRenderer(Tokenizer tokenizer, Optional<ChatTemplate> template) {
        this.tokenizer = tokenizer;
        this.template = template;
    }

    /** Whether the model brings its own chat template. */
    public boolean hasTemplate() {
        return template.isPresent();
    }

    /** The conversation as the text the model reads. */
    public String text(List<Message> messages) {
        return text(messages, List.of());
    }

    /**
     * The conversation as the text the model reads, offering it {@code tools}: the chat template
     * renders their definitions, the assistant's earlier tool calls and the tools' answers.
     *
     * @throws IllegalArgumentException when tools are offered to a model without a chat template
     */
    public String text(List<Message> messages, List<ToolDefinition> tools) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("the prompt has no messages");
        }
        if (template.isPresent()) {
            List<ChatMessage> conversation = new ArrayList<>();
            for (Message m : messages) {
                switch (m) {
                    case AssistantMessage a when a.hasToolCalls() -> conversation.add(ChatMessage.assistant(textOf(a),
                            a.getToolCalls().stream().map(c -> new ToolCall(c.id(), c.name(), c.arguments())).toList()));
                    case ToolResponseMessage r -> r.getResponses()
                            .forEach(answer -> conversation.add(ChatMessage.tool(answer.id(), answer.responseData())));
                    default -> conversation.add(new ChatMessage(m.getMessageType().getValue(), textOf(m)));
                }
            }
            return template.get().render(conversation, tools, true);
        }
        if (!tools.isEmpty()) {
            throw new IllegalArgumentException("the model has no chat template to tell it about tools; offer tools "
                    + "only to an instruct model whose file carries one");
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

    /** How the model writes its tool calls; empty for a model without a chat template. */
    Optional<ToolCallFormat> toolCallFormat() {
        return template.map(ChatTemplate::toolCallFormat);
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
