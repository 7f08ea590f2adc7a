package io.kvcache.core.kv;

/** The storage classes of a head's entries (see {@link HeadCache}), in the order attention sees them last to first. */
public enum EntryClass {
    /** Entries as computed, in the head's high precision, ordered by position. */
    KEPT,
    /** Entries a policy demoted to the low-bit class. */
    LOW_PRECISION,
    /** Merged entries that each stand for a span of tokens, with a logit bias. */
    MERGED
}
