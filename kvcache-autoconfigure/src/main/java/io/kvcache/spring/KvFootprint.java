package io.kvcache.spring;

import io.kvcache.core.kv.HeadCache;
import io.kvcache.core.kv.HeadMemory;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvPolicy;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.ModelConfig;

/**
 * The bytes a conversation's KV cache holds at a given length under the configured policy, as the
 * core accounts them ({@link KvCache#memory()}): a real cache of the policy is filled with that
 * many entries in one forward call and compacted, and its bytes read back.
 *
 * <p>One call holding every token is the most a sequence of that length holds: a policy keeps as
 * many entries at full precision as its shares of the length allow, and a conversation that grew
 * step by step can only have dropped or demoted more. An {@code adaptive} cache before its prompt
 * is profiled keeps every entry, the most any of its per-head choices keeps. Every head that holds
 * its own cache holds the same under these policies, so one head is filled and counted for all,
 * which keeps this cheap enough to run for each request.
 */
final class KvFootprint {
    private final ModelConfig config;
    private final KvPolicy policy;
    private final TokenClasses classes;
    private final int ownedHeads;
    private final int firstOwnedLayer;

    KvFootprint(ModelConfig config, KvPolicy policy, TokenClasses classes) {
        this.config = config;
        this.policy = policy;
        this.classes = classes;
        KvCache probe = new KvCache(config, 1, policy, classes);
        int owned = 0;
        int first = -1;
        for (int layer = 0; layer < probe.layers(); layer++) {
            if (probe.ownsLayer(layer)) {
                owned += probe.kvHeads();
                first = first < 0 ? layer : first;
            }
        }
        this.ownedHeads = owned;
        this.firstOwnedLayer = first;
    }

    /**
     * The most bytes a conversation holds on its way to {@code tokens} tokens: what it holds at
     * that length, except under {@code span}, whose cache shrinks each time a span of older tokens
     * closes into merged entries. There the peak comes just before a span closes, one span length
     * apart, and each peak is above the one before; so the largest of the last span length of
     * lengths is the largest on the whole way.
     */
    long peakUpTo(int tokens) {
        if (policy.kind() != KvPolicy.Kind.SPAN) {
            return bytesAt(tokens);
        }
        long peak = 0;
        for (int length = Math.max(1, tokens - policy.span().length() + 1); length <= tokens; length++) {
            peak = Math.max(peak, bytesAt(length));
        }
        return peak;
    }

    /** Bytes held by a conversation of {@code tokens} tokens (1 to the model's context length). */
    long bytesAt(int tokens) {
        KvCache cache = new KvCache(config, tokens, policy, classes);
        HeadCache head = cache.head(firstOwnedLayer, 0);
        float[] key = new float[head.keyDim()];
        float[] value = new float[head.valueDim()];
        for (int position = 0; position < tokens; position++) {
            // Varied values keep the quantized classes' scales away from zero; their bytes do not depend on them.
            for (int d = 0; d < key.length; d++) {
                key[d] = (float) Math.sin(position + 0.37 * d);
            }
            for (int d = 0; d < value.length; d++) {
                value[d] = (float) Math.cos(position - 0.53 * d);
            }
            cache.advance(0);
            head.append(position, key, 0, value, 0);
        }
        cache.compact();
        for (HeadMemory memory : cache.memory().heads()) {
            if (memory.layer() == firstOwnedLayer && memory.kvHead() == 0) {
                return memory.bytesHeld() * ownedHeads;
            }
        }
        throw new IllegalStateException("the cache reports no head " + firstOwnedLayer + "/0");
    }
}
