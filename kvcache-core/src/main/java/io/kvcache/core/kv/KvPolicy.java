package io.kvcache.core.kv;

import java.util.Map;

/**
 * A KV-cache compression policy: one record per policy, each owning its settings (with their
 * defaults and validation), the storage layout its heads use, the per-head policy every head
 * starts with, how many entries a head holds at a given length (the cache's sizing), and its
 * description for {@code /actuator/kvcache}. Layer sharing is not a policy: it combines with any
 * of them (see {@link KvCacheConfig}).
 *
 * <p>The forward pass never names a policy: it appends entries, calls
 * {@link KvCache#afterPrompt} once the prompt's attention has run in a layer (the only moment a
 * policy may look at queries and attention probabilities) and {@link KvCache#compact()} after each
 * call, where {@link Compactor} applies every head's {@link HeadPolicy}.
 *
 * <p>Writing a policy: add a record here, list it in {@code permits} and in
 * {@link KvCacheConfig#parse}'s table, and test it; see the README's "Writing a policy".
 */
public sealed interface KvPolicy
        permits FullPolicy, WindowPolicy, HeavyHitterPolicy, AdaptivePolicy, MixedPrecisionPolicy, SpanPolicy {

    /** First tokens every compressing policy keeps unless told otherwise (attention sinks, StreamingLLM's 4). */
    int DEFAULT_SINKS = 4;

    /** The {@code kvcache.policy} value naming it. */
    String name();

    /** Leading positions every head keeps (0 where the policy keeps everything anyway). */
    int sinks();

    /** How each head stores its entries. */
    StorageLayout layout();

    /** The policy each head runs until something (a prompt profile) chooses another. */
    HeadPolicy initialHeadPolicy();

    /**
     * Every per-head policy a head of this policy may run, the initial one first: what a restored
     * cache's heads are checked against.
     */
    default java.util.List<HeadPolicy> headPolicies() {
        return java.util.List.of(initialHeadPolicy());
    }

    /**
     * Its settings, by their property names under {@code kvcache.} (e.g. {@code window.recent}),
     * in the form {@link KvCacheConfig#parse} reads them back.
     */
    Map<String, String> settings();

    /**
     * The most entries of each class one head holds once {@code length} tokens have been
     * evaluated: what a single forward call over all of them leaves after compaction, which a
     * sequence grown step by step never exceeds (later compactions only drop, demote or merge
     * more). The cache's sizing ({@link KvFootprint}) is computed from this.
     */
    EntryCounts entriesAt(int length);

    /**
     * How each layer's heavy hitters are shared among its heads: the same number each, or pooled
     * by attention ({@link BudgetAllocation#ADAPTIVE}), which {@link KvCache#compact()} applies to
     * the heads still running {@link #initialHeadPolicy()}. Either way a layer keeps as many
     * entries as {@link #entriesAt} says for each of its heads together.
     */
    default BudgetAllocation budgetAllocation() {
        return BudgetAllocation.UNIFORM;
    }

    /**
     * Lengths over which a head's bytes can fall back: 1 when they only grow with the length;
     * {@code span}'s cache shrinks each time a span closes, so its peak on the way to a length
     * lies among the last span length of lengths.
     */
    default int sizingPeriod() {
        return 1;
    }

    /**
     * Called once per layer holding its own cache before the prompt's attention runs (the first
     * forward call of an empty sequence), once the prompt's entries are in the cache: one observer
     * per KV head (null where a head needs none; a null array for none at all) that the prompt's
     * attention pass hands every query's probabilities to, beside the attention statistics it
     * adds, so that {@link #afterPrompt} reads them ({@link PromptAttention#observed}) instead of
     * running the attention again. Only heads that track attention can be observed.
     */
    default PromptAttention.AttentionRows[] promptObservers(KvCache cache, int layer) {
        return null;
    }

    /**
     * Called once per layer holding its own cache after the prompt's attention has run (the first
     * forward call of an empty sequence): a policy that decides per head from the prompt does so
     * here. Most policies decide nothing.
     */
    default void afterPrompt(KvCache cache, int layer, PromptAttention prompt) {
    }
}
