package io.kvcache.spring.chat;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.kv.Sequence;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The KV caches of conversations between turns, in a Caffeine cache weighed by the bytes each
 * holds (bounded by {@code kvcache.sessions.max-bytes}, expiring after access). A turn whose prompt
 * text extends a stored conversation's text takes that conversation's ids for it (see
 * {@link ConversationText}), then checks out the stored conversation whose tokens share the longest
 * prefix with its prompt, so a follow-up turn that extends the same history only evaluates the new
 * tokens; while a turn runs its conversation is out of the store (no two turns use one cache) and
 * counted as active.
 */
final class Conversations {
    private final Cache<String, Conversation> idle;
    private final Map<String, Conversation> active = new ConcurrentHashMap<>();
    private final Supplier<Sequence> newCache;
    private final AtomicLong evictions = new AtomicLong();

    /** One conversation's cache, the text its tokens stand for, and its id (shown by the Actuator endpoint). */
    record Conversation(String id, Sequence cache, ConversationText text) {
    }

    Conversations(long maxBytes, Duration expireAfterAccess, Supplier<Sequence> newCache) {
        this.newCache = newCache;
        this.idle = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String id, Conversation c) -> (int) Math.min(Integer.MAX_VALUE, c.cache().bytesAllocated()))
                .expireAfterAccess(expireAfterAccess)
                .removalListener((String id, Conversation c, RemovalCause cause) -> {
                    if (cause.wasEvicted()) {
                        evictions.incrementAndGet();
                    }
                })
                .build();
    }

    /**
     * The longest text of a stored conversation that {@code promptText} extends. Its ids are only
     * read: the conversation stays in the store, and the turn checks it out by these ids.
     */
    Optional<ConversationText> longestExtendedBy(String promptText) {
        ConversationText best = null;
        for (Conversation c : idle.asMap().values()) {
            if (c.text().isExtendedBy(promptText) && (best == null || c.text().text().length() > best.text().length())) {
                best = c.text();
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The stored conversation sharing the longest token prefix with {@code prompt}, or a new empty
     * one. A stored conversation is only continued when the prompt shares at least half of its
     * tokens: a mere common start (a system prompt) is not worth another conversation's cache.
     */
    synchronized Conversation checkOut(int[] prompt) {
        Conversation best = null;
        int bestPrefix = 0;
        for (Conversation c : idle.asMap().values()) {
            int prefix = commonPrefix(c.cache(), prompt);
            if (prefix > bestPrefix && 2 * prefix >= c.cache().length()) {
                best = c;
                bestPrefix = prefix;
            }
        }
        if (best != null) {
            idle.invalidate(best.id());
        } else {
            best = new Conversation(UUID.randomUUID().toString(), newCache.get(), ConversationText.NONE);
        }
        active.put(best.id(), best);
        return best;
    }

    /** Stores the conversation for a later turn, with the text its cache now stands for. */
    void checkIn(Conversation conversation, ConversationText text) {
        active.remove(conversation.id());
        idle.put(conversation.id(), new Conversation(conversation.id(), conversation.cache(), text));
    }

    /** Forgets the conversation (a cancelled or failed turn leaves no half-written cache behind). */
    void discard(Conversation conversation) {
        active.remove(conversation.id());
    }

    static int commonPrefix(Sequence cache, int[] prompt) {
        int n = Math.min(cache.length(), prompt.length);
        int i = 0;
        while (i < n && cache.token(i) == prompt[i]) {
            i++;
        }
        return i;
    }

    /** Memory of every conversation, stored or running, by id. */
    Map<String, KvMemoryReport> memory() {
        Map<String, KvMemoryReport> reports = new TreeMap<>();
        idle.asMap().forEach((id, c) -> reports.put(id, c.cache().memory()));
        active.forEach((id, c) -> reports.put(id, c.cache().memory()));
        return reports;
    }

    Sequence find(String id) {
        Conversation c = active.get(id);
        if (c == null) {
            c = idle.getIfPresent(id);
        }
        return c == null ? null : c.cache();
    }

    long evictions() {
        return evictions.get();
    }

    void clear() {
        idle.invalidateAll();
        active.clear();
    }
}
