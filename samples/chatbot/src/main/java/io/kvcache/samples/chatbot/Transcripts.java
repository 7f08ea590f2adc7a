package io.kvcache.samples.chatbot;

import org.springframework.stereotype.Component;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The transcripts of the open conversations by id, at most {@code chatbot.max-conversations}:
 * past that the least recently used one is forgotten (its KV cache lives on in the starter's
 * store until that evicts it too).
 */
@Component
class Transcripts {
    private final Map<String, Transcript> byId;

    Transcripts(ChatbotProperties properties) {
        int capacity = properties.maxConversations();
        this.byId = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Transcript> eldest) {
                return size() > capacity;
            }
        };
    }

    /** A new transcript with a fresh id. */
    synchronized Transcript start() {
        Transcript transcript = new Transcript(UUID.randomUUID().toString());
        byId.put(transcript.id(), transcript);
        return transcript;
    }

    /** The transcript {@code id}; fails when the server does not know it (never started, or forgotten). */
    synchronized Transcript find(String id) {
        Transcript transcript = byId.get(id);
        if (transcript == null) {
            throw new ChatExceptions.UnknownConversation(id);
        }
        return transcript;
    }
}
