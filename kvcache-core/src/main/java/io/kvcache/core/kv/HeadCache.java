package io.kvcache.core.kv;

import java.util.Arrays;

/**
 * The cache of one key/value head in one layer: the entries it holds, each with the absolute
 * position it was computed at, its key (after RoPE) and its value, stored as fp16. Heads are kept
 * apart so that each can hold its own set of tokens.
 */
public final class HeadCache {
    private static final int INITIAL_CAPACITY = 64;

    private final int keyDim;
    private final int valueDim;
    private int size;
    private int[] positions = new int[INITIAL_CAPACITY];
    private short[] keys;
    private short[] values;

    HeadCache(int keyDim, int valueDim) {
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        this.keys = new short[INITIAL_CAPACITY * keyDim];
        this.values = new short[INITIAL_CAPACITY * valueDim];
    }

    /** Appends one entry; {@code key} and {@code value} are rounded to fp16. */
    public void append(int position, float[] key, int keyOffset, float[] value, int valueOffset) {
        if (size == positions.length) {
            int capacity = size * 2;
            positions = Arrays.copyOf(positions, capacity);
            keys = Arrays.copyOf(keys, capacity * keyDim);
            values = Arrays.copyOf(values, capacity * valueDim);
        }
        positions[size] = position;
        int k = size * keyDim;
        for (int i = 0; i < keyDim; i++) {
            keys[k + i] = Float.floatToFloat16(key[keyOffset + i]);
        }
        int v = size * valueDim;
        for (int i = 0; i < valueDim; i++) {
            values[v + i] = Float.floatToFloat16(value[valueOffset + i]);
        }
        size++;
    }

    /** Entries held. */
    public int size() {
        return size;
    }

    public int position(int entry) {
        return positions[entry];
    }

    public int keyDim() {
        return keyDim;
    }

    public int valueDim() {
        return valueDim;
    }

    /** Entries whose position is at most {@code position}: what a query at that position may attend to. */
    public int countUpTo(int position) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (positions[mid] <= position) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Decodes the keys of entries [0, count) into {@code out} as floats, entry after entry. */
    public void readKeys(int count, float[] out) {
        HalfFloats.toFloats(keys, 0, out, 0, count * keyDim);
    }

    /** Decodes the values of entries [0, count) into {@code out} as floats, entry after entry. */
    public void readValues(int count, float[] out) {
        HalfFloats.toFloats(values, 0, out, 0, count * valueDim);
    }

    /** Drops every entry at or after {@code position} (rewinding a sequence to reuse its prefix). */
    public void truncate(int position) {
        int kept = 0;
        while (kept < size && positions[kept] < position) {
            kept++;
        }
        size = kept;
    }

    /** Bytes of the entries held: fp16 keys and values plus one int position each. */
    public long bytesHeld() {
        return (long) size * (2L * keyDim + 2L * valueDim + Integer.BYTES);
    }
}
