package io.kvcache.samples.chatbot;

import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.UserMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One conversation of the page: the messages exchanged so far. The whole history is sent with
 * every turn under the transcript's id; the chat model recognises the text it stored at the last turn
 * and evaluates only the new message's tokens. One turn runs at a time, so two replies never interleave in the history.
 */
final class Transcript {
    private final String id;
    private final List<Message> messages = new ArrayList<>();
    private final AtomicBoolean turnRunning = new AtomicBoolean();

    Transcript(String id) {
        this.id = id;
    }

    String id() {
        return id;
    }

    /** Claims the transcript for one turn; false while another turn is running. */
    boolean startTurn() {
        return turnRunning.compareAndSet(false, true);
    }

    void endTurn() {
        turnRunning.set(false);
    }

    /** The history followed by the user's new message: the prompt of the next turn. */
    synchronized List<Message> promptWith(String userText) {
        List<Message> prompt = new ArrayList<>(messages);
        prompt.add(new UserMessage(userText));
        return prompt;
    }

    /** Appends a finished turn. */
    synchronized void record(String userText, String reply) {
        messages.add(new UserMessage(userText));
        messages.add(new AssistantMessage(reply));
    }
}
