package io.kvcache.core.kv;

/**
 * What one KV head keeps as computed at each step, and what becomes of the rest. Every head keeps
 * the sinks; on top of that: the most recent tokens (a count, or a share of the sequence), the
 * tokens with the most accumulated attention (a share), special and punctuation tokens; or
 * simply everything.
 *
 * @param name         the name shown in accounting (a policy name, or FastGen's composite like
 *                     {@code special+punctuation+frequency})
 * @param keepsAll     keep every token
 * @param recentTokens recent tokens kept (added to {@code recentRatio}'s share)
 * @param recentRatio  share of the sequence kept as recent tokens
 * @param heavyRatio   share of the sequence kept by accumulated attention
 * @param special      keep special tokens
 * @param punctuation  keep punctuation tokens
 * @param rest         what happens to the tokens not kept
 */
public record HeadPolicy(String name, boolean keepsAll, int recentTokens, double recentRatio, double heavyRatio,
                         boolean special, boolean punctuation, Rest rest) {

    /** The fate of tokens a head does not keep as computed. */
    public enum Rest {
        /** Evicted. */
        DROP,
        /** Moved to the low-precision class. */
        LOW_PRECISION,
        /** Merged span by span once a whole span has gathered. */
        MERGE
    }

    public static HeadPolicy keepAll(String name) {
        return new HeadPolicy(name, true, 0, 0, 0, false, false, Rest.DROP);
    }

    /** Recent tokens kept at sequence length {@code length}. */
    int recent(int length) {
        return recentTokens + (int) Math.ceil(recentRatio * length);
    }

    /** Heavy hitters kept at sequence length {@code length}. */
    int heavy(int length) {
        return (int) Math.ceil(heavyRatio * length);
    }
}
