package io.kvcache.core.kv;

import java.util.Arrays;

/**
 * The token ids of one sequence so far, up to its capacity: what every backend keeps of a
 * conversation on the host, wherever its keys and values live.
 */
public final class TokenSequence {
    private final int capacity;
    private int[] tokens;
    private int length;

    /** An empty sequence that may reach {@code capacity} positions. */
    public TokenSequence(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("a sequence needs room for at least one token, not " + capacity);
        }
        this.capacity = capacity;
        this.tokens = new int[Math.min(capacity, 256)];
    }

    /** An independent sequence of the same tokens and capacity. */
    public TokenSequence copy() {
        TokenSequence copy = new TokenSequence(capacity);
        copy.tokens = Arrays.copyOf(tokens, tokens.length);
        copy.length = length;
        return copy;
    }

    /** Positions this sequence may reach. */
    public int capacity() {
        return capacity;
    }

    /** Tokens so far; the next one goes to this position. */
    public int length() {
        return length;
    }

    public int token(int position) {
        if (position < 0 || position >= length) {
            throw new IndexOutOfBoundsException("position " + position + " of a sequence of " + length + " tokens");
        }
        return tokens[position];
    }

    /** Records that {@code token} is evaluated at the next position. */
    public void advance(int token) {
        if (length == capacity) {
            throw new IllegalStateException("the sequence is full at " + capacity + " tokens");
        }
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.min(capacity, tokens.length * 2));
        }
        tokens[length++] = token;
    }

    /** Forgets every position from {@code position} on. */
    public void truncate(int position) {
        if (position < 0 || position > length) {
            throw new IllegalArgumentException("cannot truncate a sequence of " + length + " tokens to " + position);
        }
        length = position;
    }
}
