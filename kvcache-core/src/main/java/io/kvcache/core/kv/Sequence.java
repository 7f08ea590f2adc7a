package io.kvcache.core.kv;

/**
 * One conversation as a backend holds it: its token ids on the host, and its keys and values
 * wherever that backend keeps them (a host {@link KvCache} on the CPU, device memory on a GPU),
 * with the memory they take. A backend makes its own ({@code ForwardPass.newSequence}) and
 * evaluates only those.
 */
public interface Sequence {
    /** The token ids evaluated so far. */
    TokenSequence tokens();

    /** The policy and layer sharing its cache runs. */
    KvCacheConfig config();

    /**
     * Forgets every position from {@code position} on, tokens and keys and values alike, so it can
     * continue from there; {@code position} must be one {@link #resumablePrefix} accepts.
     */
    void truncate(int position);

    /**
     * The longest prefix of the first {@code position} tokens it can continue from after
     * {@link #truncate}: {@code position} itself, or 0 where continuing would need keys and values
     * it has dropped for good (a sliding-window layer keeps only its window).
     */
    default int resumablePrefix(int position) {
        return position;
    }

    /**
     * An independent sequence of the same tokens, keys and values, which either may continue
     * without touching the other (a conversation's prefix reused by another, copy-on-write).
     */
    Sequence copy();

    /** Per layer and KV head: policy, entries and bytes held, and what the full cache would hold. */
    KvMemoryReport memory();

    /** Tokens so far; the next one goes to this position. */
    default int length() {
        return tokens().length();
    }

    /** Positions it may reach. */
    default int capacity() {
        return tokens().capacity();
    }

    default int token(int position) {
        return tokens().token(position);
    }

    /** Bytes its keys and values hold. */
    default long bytesHeld() {
        return memory().bytesHeld();
    }

    /** Bytes taken where its keys and values are kept: at least {@link #bytesHeld}, more where storage grows with slack. */
    default long bytesAllocated() {
        return bytesHeld();
    }
}
