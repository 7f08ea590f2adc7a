package io.kvcache.core.kv;

import io.kvcache.core.model.ModelConfig;

/**
 * The key/value cache of one sequence, per layer and per key/value head, plus the token ids of the
 * sequence so far. Entries are appended as tokens are evaluated; a head's entries are always in
 * position order.
 */
public final class KvCache {
    private final HeadCache[][] heads;
    private final int capacity;
    private int[] tokens;
    private int length;

    /** An empty cache for up to {@code capacity} positions of a model shaped like {@code config}. */
    public KvCache(ModelConfig config, int capacity) {
        if (capacity <= 0 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " must be between 1 and the model's context length "
                    + config.contextLength());
        }
        this.capacity = capacity;
        this.heads = new HeadCache[config.layers()][config.kvHeads()];
        for (HeadCache[] layer : heads) {
            for (int h = 0; h < layer.length; h++) {
                layer[h] = new HeadCache(config.headDim(), config.valueDim());
            }
        }
        this.tokens = new int[Math.min(capacity, 256)];
    }

    public HeadCache head(int layer, int kvHead) {
        return heads[layer][kvHead];
    }

    public int layers() {
        return heads.length;
    }

    public int kvHeads() {
        return heads[0].length;
    }

    /** Positions this cache may reach. */
    public int capacity() {
        return capacity;
    }

    /** Tokens of the sequence evaluated so far; the next one goes to this position. */
    public int length() {
        return length;
    }

    public int token(int position) {
        return tokens[position];
    }

    /** Records that {@code token} was evaluated at the next position (after its K/V were appended). */
    public void advance(int token) {
        if (length == tokens.length) {
            tokens = java.util.Arrays.copyOf(tokens, Math.min(capacity, tokens.length * 2));
        }
        tokens[length++] = token;
    }

    /** Forgets every position from {@code position} on, so the sequence can continue from there. */
    public void truncate(int position) {
        if (position < 0 || position > length) {
            throw new IllegalArgumentException("cannot truncate a sequence of " + length + " tokens to " + position);
        }
        for (HeadCache[] layer : heads) {
            for (HeadCache head : layer) {
                head.truncate(position);
            }
        }
        length = position;
    }

    /** Bytes held by every head of every layer. */
    public long bytesHeld() {
        long bytes = 0;
        for (HeadCache[] layer : heads) {
            for (HeadCache head : layer) {
                bytes += head.bytesHeld();
            }
        }
        return bytes;
    }
}
