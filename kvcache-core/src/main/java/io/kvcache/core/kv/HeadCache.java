package io.kvcache.core.kv;

/**
 * The cache of one key/value head in one layer. Each entry has the absolute position it was
 * computed at (keys are stored after RoPE, and rotated under a quantized kv-type), a key and a
 * value. Entries live in up to three classes: those kept as computed (fp16, or the kv-type's codes
 * with an fp16 residual), those a policy demoted to low precision, and merged entries that stand
 * for a span of tokens. Attention sees them in the order
 * low-precision, merged, as-computed; the first two only ever hold tokens of earlier forward
 * calls, so a query's causal limit only cuts the last class.
 */
public final class HeadCache {
    private final int keyDim;
    private final int valueDim;
    private final StorageLayout layout;
    private final Entries kept;
    private final Entries lowPrecision;
    private final Entries merged;
    private KeyBalance keyBalance;
    /** Attention paid to this head's entries since the last {@link #takeExposure}, and the part of it that was exposed. */
    private double paidAttention;
    private double exposedAttention;

    HeadCache(int keyDim, int valueDim, StorageLayout layout) {
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        this.layout = layout;
        this.kept = new Entries(layout.keptRows(keyDim), layout.keptRows(valueDim), layout.positionRuns() > 0,
                layout.tracksAttention(), false);
        this.lowPrecision = layout.lowBits() == 0 ? null
                : new Entries(layout.lowRows(keyDim), layout.lowRows(valueDim), false, layout.tracksAttention(), false);
        this.merged = layout.merges()
                ? new Entries(new Float16Rows(keyDim), new Float16Rows(valueDim), false, layout.tracksAttention(), true) : null;
        this.keyBalance = layout.balancesKeys() ? KeyBalance.identity(keyDim) : null;
    }

    private HeadCache(HeadCache other) {
        this.keyDim = other.keyDim;
        this.valueDim = other.valueDim;
        this.layout = other.layout;
        this.kept = other.kept.copy();
        this.lowPrecision = other.lowPrecision == null ? null : other.lowPrecision.copy();
        this.merged = other.merged == null ? null : other.merged.copy();
        // The factors never change once set; the copy may share them.
        this.keyBalance = other.keyBalance;
    }

    /** An independent head holding the same entries. */
    HeadCache copy() {
        return new HeadCache(this);
    }

    /**
     * Appends one entry as computed; {@code key} and {@code value} are rounded to the head's
     * precision. Where the layout rotates keys, {@code key} is given rotated.
     */
    public void append(int position, float[] key, int keyOffset, float[] value, int valueOffset) {
        kept.append(position, key, keyOffset, value, valueOffset, 0f, 0f);
    }

    public int keyDim() {
        return keyDim;
    }

    public int valueDim() {
        return valueDim;
    }

    public StorageLayout layout() {
        return layout;
    }

    /** Entries held, in every class. */
    public int size() {
        return older() + kept.size();
    }

    /** Entries of the low-precision and merged classes: all of them precede any query being evaluated. */
    private int older() {
        return (lowPrecision == null ? 0 : lowPrecision.size()) + (merged == null ? 0 : merged.size());
    }

    /** Entries a query at {@code position} may attend to: the first this many in attention order. */
    public int countUpTo(int position) {
        return older() + kept.countUpTo(position);
    }

    /**
     * Whether attention over this head must be the plain float softmax that yields each entry's
     * probability (to accumulate the attention statistics) and adds logit biases.
     */
    public boolean attendsWeighted() {
        return layout.tracksAttention() || hasBiases();
    }

    /** Whether some entries carry a logit bias (see {@link #readBiases}). */
    public boolean hasBiases() {
        return merged != null && merged.size() > 0;
    }

    /** Decodes the keys of the first {@code count} entries in attention order into {@code out}. */
    public void readKeys(int count, float[] out) {
        read(0, count, out, keyDim, true);
    }

    /** Decodes the values of the first {@code count} entries in attention order into {@code out}. */
    public void readValues(int count, float[] out) {
        read(0, count, out, valueDim, false);
    }

    /**
     * Decodes the keys of the entries [from, to) in attention order into {@code out} from index 0
     * (from {@link #lowPrecisionEntries()} on: those a {@link LowPrecisionAttention} does not read).
     */
    public void readKeys(int from, int to, float[] out) {
        read(from, to, out, keyDim, true);
    }

    /** As {@link #readKeys(int, int, float[])}, for the values. */
    public void readValues(int from, int to, float[] out) {
        read(from, to, out, valueDim, false);
    }

    /** Entries [from, to) of the classes in attention order, decoded into out[0, (to - from) * width). */
    private void read(int from, int to, float[] out, int width, boolean keys) {
        int base = readClass(lowPrecision, 0, from, to, out, width, keys);
        base = readClass(merged, base, from, to, out, width, keys);
        readClass(kept, base, from, to, out, width, keys);
    }

    /** The part of [from, to) that falls in {@code entries} (null: none), which start at {@code base}; returns where the next class starts. */
    private int readClass(Entries entries, int base, int from, int to, float[] out, int width, boolean keys) {
        if (entries == null) {
            return base;
        }
        int lo = Math.max(from, base);
        int hi = Math.min(to, base + entries.size());
        if (lo < hi) {
            (keys ? entries.keys : entries.values).decode(lo - base, hi - lo, out, (lo - from) * width);
            if (keys && entries == lowPrecision && keyBalance != null) {
                keyBalance.restoreKeys(out, (lo - from) * width, hi - lo);
            }
        }
        return base + entries.size();
    }

    /** The logit bias of the first {@code count} entries in attention order (0 but for merged entries). */
    public void readBiases(int count, float[] out) {
        int at = 0;
        int low = lowPrecision == null ? 0 : Math.min(count, lowPrecision.size());
        for (; at < low; at++) {
            out[at] = 0f;
        }
        int mergedCount = merged == null ? 0 : Math.min(count - at, merged.size());
        for (int e = 0; e < mergedCount; e++) {
            out[at++] = merged.bias(e);
        }
        for (; at < count; at++) {
            out[at] = 0f;
        }
    }

    /**
     * Adds the attention the first {@code count} entries (attention order) received, summed over
     * the queries of one step, to their running totals. Safe to call from several threads.
     */
    public void addAttention(float[] received, int count) {
        addAttention(received, 0, count);
    }

    /** As {@link #addAttention(float[], int)}, entry e's share at {@code received[offset + e]}. */
    public synchronized void addAttention(float[] received, int offset, int count) {
        int at = 0;
        double exposed = 0;
        if (lowPrecision != null) {
            int n = Math.min(count - at, lowPrecision.size());
            lowPrecision.addAttention(received, offset + at, n);
            exposed += sum(received, offset + at, n);
            at += lowPrecision.size();
        }
        if (merged != null && at < count) {
            int n = Math.min(count - at, merged.size());
            merged.addAttention(received, offset + at, n);
            exposed += sum(received, offset + at, n);
            at += merged.size();
        }
        double paid = exposed;
        if (at < count) {
            kept.addAttention(received, offset + at, count - at);
            for (int e = 0; e < count - at; e++) {
                float p = received[offset + at + e];
                paid += p;
                if (e > 0 && kept.position(e) > kept.position(e - 1) + 1) {
                    exposed += p;
                }
            }
        }
        paidAttention += paid;
        exposedAttention += exposed;
    }

    /**
     * Replaces the attention statistics of the entries kept as computed with {@code scores}, one
     * per entry in order (a prompt's {@link ObservationWindow} scores, before any entry left that
     * class); later attention adds to them.
     */
    void rescoreKept(float[] scores) {
        if (!kept.tracksAttention() || scores.length != kept.size()) {
            throw new IllegalStateException("scores for " + scores.length + " entries, the head keeps " + kept.size()
                    + (kept.tracksAttention() ? "" : " and no statistics"));
        }
        kept.setAttention(scores, scores.length);
    }

    private static double sum(float[] values, int from, int count) {
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += values[from + i];
        }
        return sum;
    }

    /**
     * The share of the attention paid to this head since the last call that was exposed to its
     * compression ({@link Guardrail}: on low-precision or merged entries, or on an entry kept as
     * computed right after a position it does not hold as computed); NaN when none was paid.
     */
    synchronized double takeExposure() {
        double share = paidAttention > 0 ? exposedAttention / paidAttention : Double.NaN;
        paidAttention = 0;
        exposedAttention = 0;
        return share;
    }

    /** Drops every entry at or after {@code position} (rewinding a sequence to reuse its prefix). */
    public void truncate(int position) {
        kept.dropFrom(position);
        if (lowPrecision != null) {
            lowPrecision.dropFrom(position);
        }
        if (merged != null) {
            merged.dropFrom(position);
        }
    }

    /** Drops every entry before {@code position}, in every class (a sliding-window layer's view moved past them). */
    void dropBefore(int position) {
        kept.dropBefore(position);
        if (lowPrecision != null) {
            lowPrecision.dropBefore(position);
        }
        if (merged != null) {
            merged.dropBefore(position);
        }
    }

    /**
     * Whether the entries in attention order are in position order (only the as-computed class
     * holds any), so that a sliding window cuts a prefix of them (see {@link #countBefore}).
     */
    public boolean inPositionOrder() {
        return older() == 0;
    }

    /** Entries before {@code position}; the first entries in attention order when {@link #inPositionOrder}. */
    public int countBefore(int position) {
        return older() + kept.countUpTo(position - 1);
    }

    /** The positions of the first {@code count} entries in attention order. */
    public void readPositions(int count, int[] out) {
        int at = 0;
        int low = lowPrecision == null ? 0 : Math.min(count, lowPrecision.size());
        for (int e = 0; e < low; e++) {
            out[at++] = lowPrecision.position(e);
        }
        int mergedCount = merged == null ? 0 : Math.min(count - at, merged.size());
        for (int e = 0; e < mergedCount; e++) {
            out[at++] = merged.position(e);
        }
        for (int e = 0; at < count; e++) {
            out[at++] = kept.position(e);
        }
    }

    /** Bytes of the entries held: rows, positions, statistics, biases, plus key-balance factors. */
    public long bytesHeld() {
        long bytes = kept.bytesHeld();
        if (lowPrecision != null) {
            bytes += lowPrecision.bytesHeld();
        }
        if (merged != null) {
            bytes += merged.bytesHeld();
        }
        return bytes + (keyBalance == null ? 0 : keyBalance.bytesHeld());
    }

    /** Bytes of the arrays allocated for them (growth leaves some slack). */
    public long bytesAllocated() {
        long bytes = kept.bytesAllocated();
        if (lowPrecision != null) {
            bytes += lowPrecision.bytesAllocated();
        }
        if (merged != null) {
            bytes += merged.bytesAllocated();
        }
        return bytes + (keyBalance == null ? 0 : keyBalance.bytesHeld());
    }

    /** Entries per class, for accounting: as computed, low precision, merged. */
    public int keptEntries() {
        return kept.size();
    }

    public int lowPrecisionEntries() {
        return lowPrecision == null ? 0 : lowPrecision.size();
    }

    public int mergedEntries() {
        return merged == null ? 0 : merged.size();
    }

    Entries kept() {
        return kept;
    }

    /** Whether this head's layout has the class {@code which} (every head has {@link EntryClass#KEPT}). */
    public boolean has(EntryClass which) {
        return entries(which) != null;
    }

    /** The entries of class {@code which} as stored, copied; the class must be one this head has. */
    public StoredEntries stored(EntryClass which) {
        return requireClass(which).stored();
    }

    /**
     * Fills the empty class {@code which} with {@code stored} (a cache restored from a snapshot),
     * checking it against this head's layout and a sequence of {@code length} tokens.
     *
     * @throws IllegalArgumentException naming what does not fit
     */
    public void restore(EntryClass which, StoredEntries stored, int length) {
        if (which == EntryClass.KEPT && layout.positionRuns() > 0) {
            int[] positions = stored.positions();
            int runs = 0;
            for (int e = 0; e < positions.length; e++) {
                runs += e == 0 || positions[e] != positions[e - 1] + 1 ? 1 : 0;
            }
            if (runs > layout.positionRuns()) {
                throw new IllegalArgumentException("the kept positions form " + runs + " runs; this policy keeps at most "
                        + layout.positionRuns());
            }
        }
        requireClass(which).restore(stored, length, which == EntryClass.KEPT);
    }

    /** Bytes of {@code rows} stored key rows ({@code keys}) or value rows of class {@code which}. */
    public long storedBytesOf(EntryClass which, boolean keys, int rows) {
        Entries entries = requireClass(which);
        return (keys ? entries.keys : entries.values).storedBytesOf(rows);
    }

    private Entries requireClass(EntryClass which) {
        Entries entries = entries(which);
        if (entries == null) {
            throw new IllegalArgumentException("this head's layout has no " + which + " entries");
        }
        return entries;
    }

    private Entries entries(EntryClass which) {
        return switch (which) {
            case KEPT -> kept;
            case LOW_PRECISION -> lowPrecision;
            case MERGED -> merged;
        };
    }

    Entries lowPrecision() {
        return lowPrecision;
    }

    Entries merged() {
        return merged;
    }

    /** The key-channel factors of a layout that balances keys; null otherwise. */
    public KeyBalance keyBalance() {
        return keyBalance;
    }

    /** Fixes the key-channel factors (from the prompt), before any entry is demoted. */
    public void setKeyBalance(KeyBalance balance) {
        if (keyBalance == null) {
            throw new IllegalStateException("this head's layout does not balance keys");
        }
        this.keyBalance = balance;
    }
}
