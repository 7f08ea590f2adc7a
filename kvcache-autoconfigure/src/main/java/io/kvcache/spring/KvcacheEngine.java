package io.kvcache.spring;

import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.kv.KvPolicy;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.model.Transformer;
import io.kvcache.core.tensor.ComputePool;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The running model of an application: the loaded weights, the CPU backend's threads, the KV-cache
 * policy, and the sequences (conversations) whose caches are open, by id.
 */
public final class KvcacheEngine implements AutoCloseable {
    private final Model model;
    private final ComputePool pool;
    private final Transformer transformer;
    private final KvPolicy policy;
    private final TokenClasses classes;
    private final int contextLength;
    private final Map<String, KvCache> sequences = new ConcurrentHashMap<>();

    public KvcacheEngine(Model model, ComputePool pool, KvPolicy policy, int contextLength) {
        if (contextLength < 1 || contextLength > model.config().contextLength()) {
            throw new IllegalArgumentException("kvcache.model.context-length: " + contextLength
                    + " must be from 1 to the model's context length " + model.config().contextLength());
        }
        this.model = model;
        this.pool = pool;
        this.transformer = new Transformer(model, pool);
        this.policy = policy;
        this.classes = TokenClasses.of(model.tokenizer());
        this.contextLength = contextLength;
        // A policy that does not fit the model (e.g. share groups past its last layer) fails now, not at the first request.
        new KvCache(model.config(), 1, policy, classes);
    }

    public Model model() {
        return model;
    }

    public Transformer transformer() {
        return transformer;
    }

    public KvPolicy policy() {
        return policy;
    }

    public int contextLength() {
        return contextLength;
    }

    public int threads() {
        return pool.threads();
    }

    /** The cache of sequence {@code id}, created empty (run by the configured policy) when it is new. */
    public KvCache open(String id) {
        return sequences.computeIfAbsent(id, key -> new KvCache(model.config(), contextLength, policy, classes));
    }

    public Optional<KvCache> sequence(String id) {
        return Optional.ofNullable(sequences.get(id));
    }

    /** Forgets sequence {@code id} and its cache. */
    public void close(String id) {
        sequences.remove(id);
    }

    /** The memory report of every open sequence, by id. */
    public Map<String, KvMemoryReport> memory() {
        Map<String, KvMemoryReport> reports = new java.util.TreeMap<>();
        sequences.forEach((id, cache) -> reports.put(id, cache.memory()));
        return reports;
    }

    @Override
    public void close() {
        sequences.clear();
        pool.close();
        model.close();
    }
}
