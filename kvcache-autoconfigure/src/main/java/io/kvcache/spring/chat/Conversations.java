package io.kvcache.spring.chat;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.kv.Sequence;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The KV caches of conversations between turns, in a Caffeine cache weighed by the bytes each
 * holds (bounded by {@code kvcache.sessions.max-bytes}, expiring after access). A turn continues a
 * stored conversation only when it names it (the id of its last {@code ChatResponse}, through
 * {@link KvcacheChatOptions#getConversationId()}) or when its prompt extends that conversation's
 * whole text (see {@link ConversationText}), so a follow-up turn only evaluates the new tokens.
 * No other caller's turn ever continues, overwrites or evicts a conversation: with
 * {@code kvcache.sessions.share-prefixes}, a new conversation may start from a copy of the longest
 * token prefix it shares with a stored one, which stays as it was. While a turn runs its
 * conversation is out of the store (no two turns use one cache) and counted as active.
 *
 * <p>A stored cache is only written after it is checked out, and checking out, checking in and
 * reading memory hold this store's lock, so a memory report never sees a cache half-written: a
 * stored conversation reports what it holds, a running one what it held when its turn began.
 *
 * <p>With a store shared by replicas ({@link SharedConversations}), each checked-in conversation is
 * also written there, later and off the turn's thread, and a turn naming a conversation this
 * replica does not hold first looks it up there ({@link #loadShared}).
 */
final class Conversations {
    private final Cache<String, Conversation> idle;
    private final Map<String, Running> active = new HashMap<>();
    private final Supplier<Sequence> newCache;
    private final boolean sharePrefixes;
    private final AtomicLong evictions = new AtomicLong();
    /** The store shared by replicas; null when conversations live in this process only. */
    private final SharedConversations shared;

    /** One conversation's cache, the text its tokens stand for, and its id (shown by the Actuator endpoint). */
    record Conversation(String id, Sequence cache, ConversationText text) {
    }

    /** A conversation whose turn is writing its cache, with the cache's memory as the turn began. */
    private record Running(Conversation conversation, KvMemoryReport atStart) {
    }

    Conversations(SessionSettings settings, Supplier<Sequence> newCache, SharedConversations shared) {
        this.newCache = newCache;
        this.shared = shared;
        this.sharePrefixes = settings.sharePrefixes();
        this.idle = Caffeine.newBuilder()
                .maximumWeight(settings.maxBytes())
                .weigher((String id, Conversation c) -> (int) Math.min(Integer.MAX_VALUE, c.cache().bytesAllocated()))
                .expireAfterAccess(settings.expireAfterAccess())
                .removalListener((String id, Conversation c, RemovalCause cause) -> {
                    if (cause.wasEvicted()) {
                        evictions.incrementAndGet();
                    }
                })
                .build();
    }

    /**
     * The text of the stored conversation a turn would continue by text: the one named
     * {@code id}, or without a name the longest stored text that {@code promptText} extends. Its
     * ids are only read: the conversation stays in the store, and the turn checks it out by them.
     */
    Optional<ConversationText> extendedText(String id, String promptText) {
        if (id != null) {
            Conversation named = idle.getIfPresent(id);
            return named != null && named.text().isExtendedBy(promptText) ? Optional.of(named.text()) : Optional.empty();
        }
        ConversationText best = null;
        for (Conversation c : idle.asMap().values()) {
            if (c.text().isExtendedBy(promptText) && (best == null || c.text().text().length() > best.text().length())) {
                best = c.text();
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The conversation a turn of {@code prompt} runs in: the one named {@code id} (a new one
     * under that id when it is not stored, e.g. expired); without a name, the stored conversation
     * whose every token the prompt starts with (the longest), else a new one, which with
     * share-prefixes starts from a copy of the stored cache sharing the longest prefix.
     *
     * @throws ConversationLimitException when the named conversation has a turn running
     */
    synchronized Conversation checkOut(int[] prompt, String id) {
        Conversation chosen;
        if (id != null) {
            if (active.containsKey(id)) {
                throw new ConversationLimitException("conversation " + id + " has a turn running; send its next turn "
                        + "when that one has finished");
            }
            chosen = idle.asMap().remove(id);
            if (chosen == null) {
                chosen = new Conversation(id, newCache.get(), ConversationText.NONE);
            }
        } else {
            chosen = continuedWhole(prompt);
            if (chosen != null) {
                idle.asMap().remove(chosen.id());
            } else {
                chosen = new Conversation(UUID.randomUUID().toString(), sharedPrefix(prompt), ConversationText.NONE);
            }
        }
        active.put(chosen.id(), new Running(chosen, chosen.cache().memory()));
        return chosen;
    }

    /** The stored conversation with the most tokens, all of which start {@code prompt}; null when none does. */
    private Conversation continuedWhole(int[] prompt) {
        Conversation best = null;
        for (Conversation c : idle.asMap().values()) {
            int length = c.cache().length();
            if (length > 0 && commonPrefix(c.cache(), prompt) == length
                    && (best == null || length > best.cache().length())) {
                best = c;
            }
        }
        return best;
    }

    /**
     * With share-prefixes, a copy of the stored cache sharing the longest token prefix with
     * {@code prompt} (copied here, under the store's lock, so its owner cannot be writing to it);
     * otherwise, or when none shares more than a first token, an empty cache.
     */
    private Sequence sharedPrefix(int[] prompt) {
        if (sharePrefixes) {
            Conversation best = null;
            int bestPrefix = 1;
            for (Conversation c : idle.asMap().values()) {
                int prefix = commonPrefix(c.cache(), prompt);
                if (prefix > bestPrefix) {
                    best = c;
                    bestPrefix = prefix;
                }
            }
            if (best != null) {
                Sequence copy = best.cache().copy();
                copy.truncate(copy.resumablePrefix(bestPrefix));
                return copy;
            }
        }
        return newCache.get();
    }

    /** Stores the conversation for a later turn, with the text its cache now stands for. */
    synchronized void checkIn(Conversation conversation, ConversationText text) {
        active.remove(conversation.id());
        Conversation stored = new Conversation(conversation.id(), conversation.cache(), text);
        idle.put(conversation.id(), stored);
        if (shared != null) {
            shared.saveLater(stored.id(), () -> snapshotIfUnchanged(stored));
        }
    }

    /**
     * The snapshot of a checked-in conversation, taken under the lock so that no turn writes its
     * cache meanwhile; null when a later turn has taken it or stored a newer one (whose own
     * snapshot follows). Evicted here, it is still written: the shared store may keep it longer.
     */
    private synchronized byte[] snapshotIfUnchanged(Conversation stored) {
        Conversation now = idle.asMap().get(stored.id());
        if (active.containsKey(stored.id()) || (now != null && now != stored)) {
            return null;
        }
        return shared.snapshot(stored);
    }

    /**
     * Where this replica holds no conversation {@code id}, restores it from the shared store when
     * that has it (reading the store without holding the lock), so the turn continues it.
     */
    void loadShared(String id) {
        if (shared == null) {
            return;
        }
        synchronized (this) {
            if (active.containsKey(id) || idle.getIfPresent(id) != null) {
                return;
            }
        }
        shared.load(id).ifPresent(restored -> {
            synchronized (this) {
                if (!active.containsKey(id)) {
                    idle.asMap().putIfAbsent(id, restored);
                }
            }
        });
    }

    /** How the store shared by replicas is doing; empty without one. */
    Optional<SessionStoreStatus> storeStatus() {
        return shared == null ? Optional.empty() : Optional.of(shared.status());
    }

    /** Writes the snapshots still queued for the shared store, and stops writing. */
    void closeShared() {
        if (shared != null) {
            shared.close();
        }
    }

    /** Forgets the conversation (a cancelled or failed turn leaves no half-written cache behind). */
    synchronized void discard(Conversation conversation) {
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

    /** Memory of every conversation, stored or running (as its turn began), by id. */
    synchronized Map<String, KvMemoryReport> memory() {
        Map<String, KvMemoryReport> reports = new TreeMap<>();
        idle.asMap().forEach((id, c) -> reports.put(id, c.cache().memory()));
        active.forEach((id, running) -> reports.put(id, running.atStart()));
        return reports;
    }

    /** Memory of conversation {@code id}, stored or running (as its turn began); null when there is none. */
    synchronized KvMemoryReport memory(String id) {
        Running running = active.get(id);
        if (running != null) {
            return running.atStart();
        }
        Conversation stored = idle.getIfPresent(id);
        return stored == null ? null : stored.cache().memory();
    }

    /** The cache of conversation {@code id}, stored or running (then being written); null when there is none. */
    synchronized Sequence find(String id) {
        Running running = active.get(id);
        Conversation c = running != null ? running.conversation() : idle.getIfPresent(id);
        return c == null ? null : c.cache();
    }

    long evictions() {
        return evictions.get();
    }

    synchronized void clear() {
        idle.invalidateAll();
        active.clear();
    }
}
