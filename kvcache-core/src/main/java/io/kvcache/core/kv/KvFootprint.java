package io.kvcache.core.kv;

import io.kvcache.core.model.ModelConfig;

/**
 * The bytes a sequence's KV cache holds at a given length under a {@link KvCacheConfig}, computed
 * from the policy's {@link KvPolicy#entriesAt entry counts} and the storage layout's bytes per
 * entry: the same figures {@link KvCache#memory()} reports for a cache that reached that length in
 * one forward call, which is the most a sequence of that length holds. Every head holding its own
 * cache holds the same, so a head's bytes are multiplied by the heads that hold a cache.
 */
public final class KvFootprint {
    private final KvPolicy policy;
    private final StorageLayout layout;
    private final int keyDim;
    private final int valueDim;
    private final long cachedHeads;

    /**
     * @throws IllegalArgumentException when the config's layer sharing does not fit the model
     */
    public KvFootprint(ModelConfig model, KvCacheConfig config) {
        this.policy = config.policy();
        this.layout = policy.layout();
        this.keyDim = model.headDim();
        this.valueDim = model.valueDim();
        int[] owners = KvCache.owners(config, model);
        int owning = 0;
        for (int layer = 0; layer < owners.length; layer++) {
            owning += owners[layer] == layer ? 1 : 0;
        }
        this.cachedHeads = (long) owning * model.kvHeads();
    }

    /** Bytes held by a sequence of {@code tokens} tokens. */
    public long bytesAt(int tokens) {
        return cachedHeads * layout.bytesOf(policy.entriesAt(tokens), keyDim, valueDim);
    }

    /**
     * The most bytes a sequence holds on its way to {@code tokens} tokens. Where bytes can fall
     * back ({@link KvPolicy#sizingPeriod()}), each peak is above the one before, so the largest
     * of the last period of lengths is the largest on the whole way.
     */
    public long peakUpTo(int tokens) {
        long peak = 0;
        for (int length = Math.max(1, tokens - policy.sizingPeriod() + 1); length <= tokens; length++) {
            peak = Math.max(peak, bytesAt(length));
        }
        return peak;
    }
}
