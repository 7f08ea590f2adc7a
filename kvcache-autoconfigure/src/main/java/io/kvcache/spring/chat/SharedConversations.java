package io.kvcache.spring.chat;

import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.kv.snapshot.CacheSnapshot;
import io.kvcache.core.kv.snapshot.ModelIdentity;
import io.kvcache.core.kv.snapshot.SnapshotFormatException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The conversations a {@link ConversationStore} shares between replicas: snapshots written after
 * each turn on a thread of their own (never on the decode path), restored on a miss in this
 * replica's memory. A snapshot of another model, policy or format, or bytes that are no snapshot,
 * is a miss, logged. A store that cannot be reached is a miss too: the conversation is kept here
 * only, the store is left alone for {@value #RETRY_SECONDS} s, and health says so; no turn ever
 * fails or waits longer than {@code timeout} for it.
 */
final class SharedConversations implements AutoCloseable {
    private static final Log log = LogFactory.getLog(SharedConversations.class);
    private static final long RETRY_SECONDS = 5;
    /** How long closing waits for the snapshots of the last turns to be written. */
    private static final long FLUSH_SECONDS = 10;

    private final ConversationStore store;
    private final ModelIdentity model;
    private final KvCacheConfig policy;
    private final int capacity;
    private final TokenClasses classes;
    private final long maxBytes;
    private final Duration timeout;
    /** One writer, so that a conversation's snapshots reach the store in the order of its turns. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> daemon(r, "kvcache-session-writer"));
    private final ExecutorService reader = Executors.newFixedThreadPool(2, r -> daemon(r, "kvcache-session-reader"));
    private final AtomicLong saved = new AtomicLong();
    private final AtomicLong loaded = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile long retryAt;
    private volatile String lastError;

    /**
     * @param maxBytes most bytes one conversation's snapshot may take ({@code kvcache.sessions.max-bytes})
     * @param timeout  how long a turn waits for the store before it starts without it
     */
    SharedConversations(ConversationStore store, ModelIdentity model, KvCacheConfig policy, int capacity,
                        TokenClasses classes, long maxBytes, Duration timeout) {
        this.store = store;
        this.model = model;
        this.policy = policy;
        this.capacity = capacity;
        this.classes = classes;
        this.maxBytes = maxBytes;
        this.timeout = timeout;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Writes the snapshot {@code snapshot} gives, later, on the writer's thread; it gives null
     * when the conversation has moved on (a newer turn will write its own).
     */
    void saveLater(String id, Supplier<byte[]> snapshot) {
        writer.execute(() -> {
            if (!storeAnswers()) {
                return;
            }
            byte[] bytes = snapshot.get();
            if (bytes == null) {
                return;
            }
            if (bytes.length > maxBytes) {
                log.info("kvcache sessions: conversation " + id + " takes " + bytes.length + " bytes, more than "
                        + "kvcache.sessions.max-bytes=" + maxBytes + "; it is kept on this replica only");
                return;
            }
            try {
                if (store.save(id, bytes)) {
                    saved.incrementAndGet();
                }
                answered();
            } catch (RuntimeException e) {
                failed("saving conversation " + id, e);
            }
        });
    }

    /** The snapshot of a conversation's cache and text; null for a cache held off the host (a GPU's). */
    byte[] snapshot(Conversations.Conversation conversation) {
        if (!(conversation.cache() instanceof KvCache cache)) {
            return null;
        }
        return CacheSnapshot.write(cache, model, conversation.text().text(), conversation.text().tokens());
    }

    /** Conversation {@code id} as the store holds it, restored; empty on any kind of miss. */
    Optional<Conversations.Conversation> load(String id) {
        if (!storeAnswers()) {
            return Optional.empty();
        }
        Future<Optional<byte[]>> read = reader.submit(() -> store.load(id));
        Optional<byte[]> bytes;
        try {
            bytes = read.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            answered();
        } catch (TimeoutException e) {
            read.cancel(true);
            failed("loading conversation " + id, new IllegalStateException("no answer within " + timeout.toMillis() + " ms"));
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SnapshotFormatException bad) {
                return miss(id, bad);
            }
            failed("loading conversation " + id, e.getCause());
            return Optional.empty();
        }
        if (bytes.isEmpty()) {
            misses.incrementAndGet();
            return Optional.empty();
        }
        try {
            CacheSnapshot.Restored restored = CacheSnapshot.read(bytes.get(), model, capacity, classes);
            if (!restored.cache().config().equals(policy)) {
                throw new SnapshotFormatException("computed under kvcache.policy " + restored.cache().config().describe()
                        + ", not this application's " + policy.describe());
            }
            loaded.incrementAndGet();
            return Optional.of(new Conversations.Conversation(id, restored.cache(),
                    new ConversationText(restored.text(), restored.textTokens())));
        } catch (SnapshotFormatException e) {
            return miss(id, e);
        }
    }

    private Optional<Conversations.Conversation> miss(String id, SnapshotFormatException e) {
        misses.incrementAndGet();
        log.warn("kvcache sessions: the " + store.name() + " store's conversation " + id
                + " cannot be continued here, so it starts anew: " + e.getMessage());
        return Optional.empty();
    }

    private boolean storeAnswers() {
        return System.nanoTime() - retryAt >= 0 || lastError == null;
    }

    private void answered() {
        if (lastError != null) {
            log.info("kvcache sessions: the " + store.name() + " store answers again");
        }
        lastError = null;
    }

    private void failed(String what, Throwable e) {
        failures.incrementAndGet();
        boolean first = lastError == null;
        lastError = what + ": " + e;
        retryAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(RETRY_SECONDS);
        if (first) {
            log.warn("kvcache sessions: the " + store.name() + " store cannot be reached (" + lastError + "); "
                    + "conversations are kept on this replica only until it answers");
        }
    }

    SessionStoreStatus status() {
        return new SessionStoreStatus(store.name(), lastError == null, lastError, saved.get(), loaded.get(),
                misses.get(), failures.get(), store.evictions(), store.refusals());
    }

    /** Writes the snapshots still queued (a replica going down hands its conversations on), then stops. */
    @Override
    public void close() {
        writer.shutdown();
        reader.shutdownNow();
        try {
            writer.awaitTermination(FLUSH_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
