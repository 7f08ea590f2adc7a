package io.kvcache.spring;

import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.CpuBackend;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.kv.KvPolicy;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The running model of an application: the loaded weights, the backend that runs them (the CPU's
 * threads or a CUDA GPU), the KV-cache policy, and the conversations whose caches are kept between turns.
 */
public final class KvcacheEngine implements AutoCloseable {
    private final Model model;
    private final Backend backend;
    private final KvPolicy policy;
    private final TokenClasses classes;
    private final int contextLength;
    private final Conversations conversations;

    /** An engine on the CPU backend, with {@code pool}'s threads (the engine closes the pool). */
    public KvcacheEngine(Model model, ComputePool pool, KvPolicy policy, int contextLength, long sessionBytes,
                         Duration sessionExpiry) {
        this(model, new CpuBackend(model, pool), policy, contextLength, sessionBytes, sessionExpiry);
    }

    /**
     * @param backend           runs the model; the engine closes it
     * @param sessionBytes      most bytes the stored conversations' caches may hold together
     * @param sessionExpiry     how long an unused conversation is kept
     */
    public KvcacheEngine(Model model, Backend backend, KvPolicy policy, int contextLength, long sessionBytes,
                         Duration sessionExpiry) {
        if (contextLength < 1 || contextLength > model.config().contextLength()) {
            throw new IllegalArgumentException("kvcache.model.context-length: " + contextLength
                    + " must be from 1 to the model's context length " + model.config().contextLength());
        }
        this.model = model;
        this.backend = backend;
        this.policy = policy;
        this.classes = TokenClasses.of(model.tokenizer());
        this.contextLength = contextLength;
        this.conversations = new Conversations(sessionBytes, sessionExpiry, this::newCache);
        // A policy that does not fit the model (e.g. share groups past its last layer) fails now, not at the first request.
        new KvCache(model.config(), 1, policy, classes);
    }

    public Model model() {
        return model;
    }

    public ForwardPass transformer() {
        return backend.forwardPass();
    }

    public Backend backend() {
        return backend;
    }

    public KvPolicy policy() {
        return policy;
    }

    public int contextLength() {
        return contextLength;
    }

    /** An empty cache for one conversation, run by the configured policy. */
    public KvCache newCache() {
        return new KvCache(model.config(), contextLength, policy, classes);
    }

    Conversations conversations() {
        return conversations;
    }

    /** The cache of conversation {@code id}, stored or running. */
    public Optional<KvCache> conversation(String id) {
        return Optional.ofNullable(conversations.find(id));
    }

    /** The memory report of every conversation, by id. */
    public Map<String, KvMemoryReport> memory() {
        return conversations.memory();
    }

    /** Conversations the session store evicted for size or expiry. */
    public long evictions() {
        return conversations.evictions();
    }

    @Override
    public void close() {
        conversations.clear();
        backend.close();
        model.close();
    }
}
