package io.kvcache.core.kv;

/**
 * What a forward pass shows a policy of one layer's prompt, once the prompt's keys are in the
 * cache and its attention has run: the queries and keys it computed, and the observers of its
 * attention that the policy asked for before the pass ({@link KvPolicy#promptObservers}).
 * Policy-neutral: the forward pass offers this to every policy through
 * {@link KvCache#afterPrompt}, and each takes what it needs.
 */
public interface PromptAttention {
    /** Prompt tokens evaluated in this call (positions 0 to count-1). */
    int count();

    /** The keys of {@code kvHead} for the prompt's tokens (after RoPE), {@code count} rows of the head's key width. */
    float[] keys(int kvHead);

    /** The queries of every query head reading {@code kvHead}, token after token, {@code count * group} rows. */
    float[] queries(int kvHead);

    /**
     * The observer {@link KvPolicy#promptObservers} gave for {@code kvHead}, now handed every
     * prompt query's probabilities over the head by the prompt's attention pass; null where the
     * policy gave none.
     */
    AttentionRows observed(int kvHead);

    /** Receives attention probabilities, one query at a time, possibly from several threads at once. */
    interface AttentionRows {
        /** {@code probabilities[0, visible)} over the head's entries in attention order, for the query at {@code queryPosition}. */
        void add(float[] probabilities, int visible, int queryPosition);
    }
}
