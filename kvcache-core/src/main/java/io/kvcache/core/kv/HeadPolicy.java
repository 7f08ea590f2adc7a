package io.kvcache.core.kv;

/**
 * What one KV head keeps as computed at each step, and what becomes of the rest. Every head keeps
 * its policy's sinks; on top of that: the most recent tokens (a count, or a share of the
 * sequence), the tokens with the most accumulated attention (a share), special and punctuation
 * tokens; or simply everything.
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

    /** The fate of the tokens a head does not keep as computed. */
    public sealed interface Rest {
        /** Evicted. */
        Rest DROP = new Drop();
        /** Moved to the low-precision class. */
        Rest LOW_PRECISION = new Demote();

        record Drop() implements Rest {
        }

        record Demote() implements Rest {
        }

        /**
         * Merged, once {@code length} of them have gathered, into {@code entries} entries.
         *
         * @param length  tokens per closed span
         * @param entries merged entries a span becomes (divides {@code length})
         */
        record Merge(int length, int entries) implements Rest {
        }
    }

    public static HeadPolicy keepAll(String name) {
        return new HeadPolicy(name, true, 0, 0, 0, false, false, Rest.DROP);
    }

    /** A head that keeps its sinks, recent tokens and heavy hitters, whatever their class. */
    static HeadPolicy evicting(String name, int recentTokens, double recentRatio, double heavyRatio, Rest rest) {
        return new HeadPolicy(name, false, recentTokens, recentRatio, heavyRatio, false, false, rest);
    }

    /** Recent tokens kept at sequence length {@code length}. */
    int recent(int length) {
        return recentTokens + (int) Math.ceil(recentRatio * length);
    }

    /** Heavy hitters kept at sequence length {@code length}. */
    int heavy(int length) {
        return (int) Math.ceil(heavyRatio * length);
    }

    /**
     * Entries kept as computed once compaction has run over {@code length} entries at once: the
     * sinks and recent tokens (which may overlap), then as many heavy hitters as are left. Special
     * and punctuation tokens depend on the text, so a head that keeps them has no such count.
     */
    int keptAt(int length, int sinks) {
        if (keepsAll) {
            return length;
        }
        if (special || punctuation) {
            throw new IllegalStateException(name + " keeps tokens by their class; its count depends on the text");
        }
        int protectedEntries = (int) Math.min(length, (long) sinks + recent(length));
        return protectedEntries + Math.min(heavy(length), length - protectedEntries);
    }
}
