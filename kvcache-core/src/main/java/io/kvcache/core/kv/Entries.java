package io.kvcache.core.kv;

import java.util.Arrays;

/**
 * One storage class of a head's cache entries (for example the fp16 ones), in the order appended:
 * per entry its position, its key and value rows, and, where the policy needs them, the attention
 * it has received so far and a logit bias. Every array here is counted in {@link #bytesHeld}.
 */
final class Entries {
    private static final int INITIAL_CAPACITY = 64;

    final RowStore keys;
    final RowStore values;
    private final Positions positions;
    /** Attention received, summed over every query that saw the entry; null when not tracked. */
    private float[] attention;
    /** Added to the entry's attention logit (log of the tokens a merged entry stands for); null when unused. */
    private float[] bias;
    private int size;

    Entries(RowStore keys, RowStore values, boolean positionsInRuns, boolean tracksAttention, boolean biased) {
        this.keys = keys;
        this.values = values;
        this.positions = new Positions(positionsInRuns);
        this.attention = tracksAttention ? new float[INITIAL_CAPACITY] : null;
        this.bias = biased ? new float[INITIAL_CAPACITY] : null;
    }

    /** An independent class holding the same entries. */
    Entries copy() {
        return new Entries(keys.copy(), values.copy(), positions.copy(),
                attention == null ? null : attention.clone(), bias == null ? null : bias.clone(), size);
    }

    private Entries(RowStore keys, RowStore values, Positions positions, float[] attention, float[] bias, int size) {
        this.keys = keys;
        this.values = values;
        this.positions = positions;
        this.attention = attention;
        this.bias = bias;
        this.size = size;
    }

    int size() {
        return size;
    }

    int position(int entry) {
        return positions.get(entry);
    }

    boolean tracksAttention() {
        return attention != null;
    }

    float attention(int entry) {
        return attention[entry];
    }

    float bias(int entry) {
        return bias == null ? 0f : bias[entry];
    }

    /** Appends an entry whose key and value rows are {@code key[keyOff..]} and {@code value[valueOff..]}. */
    void append(int position, float[] key, int keyOff, float[] value, int valueOff, float receivedAttention, float logitBias) {
        if ((attention != null && size == attention.length) || (bias != null && size == bias.length)) {
            int capacity = size * 2;
            attention = attention == null ? null : Arrays.copyOf(attention, capacity);
            bias = bias == null ? null : Arrays.copyOf(bias, capacity);
        }
        positions.add(position);
        if (attention != null) {
            attention[size] = receivedAttention;
        }
        if (bias != null) {
            bias[size] = logitBias;
        }
        keys.append(key, keyOff);
        values.append(value, valueOff);
        size++;
    }

    /** The entries as stored, copied. */
    StoredEntries stored() {
        return new StoredEntries(positions.toArray(), attention == null ? null : Arrays.copyOf(attention, size),
                bias == null ? null : Arrays.copyOf(bias, size), keys.storedBytes(), values.storedBytes());
    }

    /**
     * Appends the entries of {@code stored} to this empty class.
     *
     * @throws IllegalArgumentException when they do not have the statistics this class keeps, their
     *                                  arrays disagree on the count, a position is outside
     *                                  [0, {@code length}) (or, {@code ordered}, not ascending), or a
     *                                  value is not finite
     */
    void restore(StoredEntries stored, int length, boolean ordered) {
        if (size != 0) {
            throw new IllegalStateException("entries are restored into an empty class only");
        }
        int count = stored.count();
        if ((stored.attention() != null) != (attention != null) || (stored.bias() != null) != (bias != null)) {
            throw new IllegalArgumentException("the entries " + (attention != null ? "lack" : "carry")
                    + " attention statistics or " + (bias != null ? "lack" : "carry") + " biases, unlike this head's layout");
        }
        if ((stored.attention() != null && stored.attention().length != count) || (stored.bias() != null && stored.bias().length != count)) {
            throw new IllegalArgumentException("the entries' statistics do not number " + count);
        }
        for (int e = 0; e < count; e++) {
            int p = stored.positions()[e];
            if (p < 0 || p >= length || (ordered && e > 0 && p <= stored.positions()[e - 1])) {
                throw new IllegalArgumentException("entry " + e + " has position " + p + ", outside a sequence of " + length
                        + " tokens" + (ordered ? " or out of order" : ""));
            }
            if ((attention != null && !(stored.attention()[e] >= 0 && Float.isFinite(stored.attention()[e])))
                    || (bias != null && !Float.isFinite(stored.bias()[e]))) {
                throw new IllegalArgumentException("entry " + e + " has an attention or bias that is not a finite number");
            }
        }
        keys.appendStored(stored.keys(), count);
        values.appendStored(stored.values(), count);
        int capacity = Math.max(INITIAL_CAPACITY, count);
        positions.set(stored.positions());
        attention = attention == null ? null : Arrays.copyOf(stored.attention(), capacity);
        bias = bias == null ? null : Arrays.copyOf(stored.bias(), capacity);
        size = count;
    }

    /** Sets the attention of entries e in [0, count) to {@code scores[e]} (a score that replaces the sum so far). */
    void setAttention(float[] scores, int count) {
        System.arraycopy(scores, 0, attention, 0, count);
    }

    /** Adds {@code received[from + e]} to the attention of entries e in [0, count). */
    void addAttention(float[] received, int from, int count) {
        for (int e = 0; e < count; e++) {
            attention[e] += received[from + e];
        }
    }

    /** Entries whose position is at most {@code position}. */
    int countUpTo(int position) {
        return positions.countUpTo(position);
    }

    /** Runs of consecutive positions (entries where positions are listed). */
    int positionRuns() {
        return positions.runs();
    }

    /** Keeps the entries listed (ascending) in {@code kept[0..count)} and forgets the others. */
    void retain(int[] kept, int count) {
        positions.retain(kept, count);
        for (int i = 0; i < count; i++) {
            int e = kept[i];
            if (attention != null) {
                attention[i] = attention[e];
            }
            if (bias != null) {
                bias[i] = bias[e];
            }
        }
        keys.retain(kept, count);
        values.retain(kept, count);
        resize(count);
    }

    /** Forgets the entries at or after {@code position} (classes other than the as-computed one need not be in order). */
    void dropFrom(int position) {
        int[] kept = new int[size];
        int count = 0;
        for (int e = 0; e < size; e++) {
            if (positions.get(e) < position) {
                kept[count++] = e;
            }
        }
        if (count < size) {
            retain(kept, count);
        }
    }

    /** Forgets the entries before {@code position} (what a sliding-window layer no longer sees). */
    void dropBefore(int position) {
        int[] kept = new int[size];
        int count = 0;
        for (int e = 0; e < size; e++) {
            if (positions.get(e) >= position) {
                kept[count++] = e;
            }
        }
        if (count < size) {
            retain(kept, count);
        }
    }

    private void resize(int count) {
        size = count;
        // Give memory back once entries fill less than a quarter of the arrays.
        int length = attention != null ? attention.length : bias != null ? bias.length : 0;
        if (count * 4 < length && length > INITIAL_CAPACITY) {
            int capacity = Math.max(INITIAL_CAPACITY, count * 2);
            attention = attention == null ? null : Arrays.copyOf(attention, capacity);
            bias = bias == null ? null : Arrays.copyOf(bias, capacity);
        }
    }

    /** Bytes per entry outside the key and value rows and positions: attention, bias. */
    private int statisticsBytes() {
        return (attention == null ? 0 : Float.BYTES) + (bias == null ? 0 : Float.BYTES);
    }

    long bytesHeld() {
        return (long) size * statisticsBytes() + positions.bytesHeld() + keys.bytesHeld() + values.bytesHeld();
    }

    long bytesAllocated() {
        long statistics = (attention == null ? 0 : (long) Float.BYTES * attention.length)
                + (bias == null ? 0 : (long) Float.BYTES * bias.length);
        return statistics + positions.bytesAllocated() + keys.bytesAllocated() + values.bytesAllocated();
    }
}
