package io.kvcache.core.kv;

/**
 * How a head stores its entries, fixed by the policy: the precision of the entries it keeps as
 * they are, whether it also keeps a low-precision class (and with which key balancing), whether it
 * holds merged entries, and whether it tracks the attention each entry receives. It also knows
 * what each entry costs, which the cache's sizing ({@link KvFootprint}) multiplies out.
 *
 * @param highBits        16 (fp16), or 8, 4, 3 or 2 (codes with group-wise scales) for the entries kept as
 *                        computed: the cache's {@link KvType}
 * @param lowBits         0 (no low-precision class), or 2, 3 or 4 for entries a policy demotes
 * @param groupSize       values per scale group of the quantized classes
 * @param balancesKeys    whether low-precision keys are stored divided by per-channel factors
 * @param merges          whether the head holds merged (span) entries
 * @param tracksAttention whether each entry's received attention is accumulated
 * @param rotatesKeys     whether keys (and the queries scored against them) are Hadamard-rotated
 * @param residual        latest entries kept as computed that stay fp16 where {@code highBits} is below 16
 * @param scaleBits       bits of each group's scale in the codes of the entries kept as computed: 16
 *                        (fp16) or 8 (e5m3, {@link KvScale}); the low-precision class's are fp16
 * @param positionRuns    0: every class lists its entries' positions (4 bytes each); otherwise the
 *                        entries kept as computed store theirs as runs of consecutive positions (8
 *                        bytes a run, see {@link Positions}), at most this many (the policy keeps
 *                        no more), and the other classes list theirs
 */
public record StorageLayout(int highBits, int lowBits, int groupSize, boolean balancesKeys, boolean merges,
                            boolean tracksAttention, boolean rotatesKeys, int residual, int scaleBits, int positionRuns) {

    /** The {@code full} cache: fp16, its positions one run (0 to n-1), nothing else. */
    public static final StorageLayout FULL = new StorageLayout(16, 0, 32, false, false, false, false, 0, 16, 1);

    /** The same layout, accumulating the attention each entry receives. */
    StorageLayout trackingAttention() {
        return new StorageLayout(highBits, lowBits, groupSize, balancesKeys, merges, true, rotatesKeys, residual,
                scaleBits, positionRuns);
    }

    /** The same layout, with a class of merged entries. */
    StorageLayout merging() {
        return new StorageLayout(highBits, lowBits, groupSize, balancesKeys, true, tracksAttention, rotatesKeys, residual,
                scaleBits, positionRuns);
    }

    /** The same layout, with a low-precision class stored as {@code low} says. */
    StorageLayout demotingTo(LowPrecision low) {
        return new StorageLayout(highBits, low.bits(), low.groupSize(), low.balanceKeys(), merges, tracksAttention,
                rotatesKeys, residual, scaleBits, positionRuns);
    }

    /**
     * The same layout, the kept entries' positions stored as at most {@code runs} runs, or listed
     * (0): a policy that keeps tokens wherever attention goes lists them.
     */
    StorageLayout positionsIn(int runs) {
        return new StorageLayout(highBits, lowBits, groupSize, balancesKeys, merges, tracksAttention, rotatesKeys,
                residual, scaleBits, runs);
    }

    /**
     * The same layout, keeping entries as computed at {@code type}'s precision with scales as
     * {@code scale} says, their latest {@code residual} in fp16 (and rotating keys where the type does).
     */
    StorageLayout storing(KvType type, int residual, KvScale scale) {
        return new StorageLayout(type.bits(), lowBits, groupSize, balancesKeys, merges, tracksAttention,
                type.rotatesKeys(), type == KvType.F16 ? 0 : residual, type == KvType.F16 ? 16 : scale.bits(),
                positionRuns);
    }

    /** The rows of the entries kept as computed: the kv-type's codes carry a scale per group alone (symmetric). */
    RowStore keptRows(int width) {
        return highBits == 16 ? new Float16Rows(width) : new ResidualRows(keptCodec(width), residual);
    }

    RowStore lowRows(int width) {
        return new QuantizedRows(lowCodec(width));
    }

    private LowBitRows keptCodec(int width) {
        return new LowBitRows(width, highBits, Math.min(groupSize, width), true, scaleBits);
    }

    private LowBitRows lowCodec(int width) {
        return new LowBitRows(width, lowBits, Math.min(groupSize, width), false);
    }

    /**
     * Bytes of {@code count} entries kept as computed, their positions in {@code runs} runs where
     * the layout stores runs: key and value rows (the latest {@code residual} in fp16 under a
     * quantized type), positions and statistics.
     */
    long keptBytes(long count, long runs, int keyDim, int valueDim) {
        long fp16 = highBits == 16 ? count : Math.min(residual, count);
        long positions = positionRuns == 0 ? (long) Integer.BYTES * count : 2L * Integer.BYTES * Math.min(runs, count);
        long codes = highBits == 16 ? 0 : (count - fp16) * (keptCodec(keyDim).bytesPerRow() + keptCodec(valueDim).bytesPerRow());
        return fp16 * 2L * (keyDim + valueDim) + codes
                + positions + count * statisticsBytes(false);
    }

    /** The most runs {@code count} kept entries form: {@code positionRuns} or fewer (any count where listed). */
    long mostRuns(long count) {
        return positionRuns == 0 ? count : Math.min(count, positionRuns);
    }

    /** Only for a layout with a low-precision class ({@code lowBits} > 0). */
    long lowPrecisionEntryBytes(int keyDim, int valueDim) {
        return lowCodec(keyDim).bytesPerRow() + lowCodec(valueDim).bytesPerRow() + Integer.BYTES
                + statisticsBytes(false);
    }

    long mergedEntryBytes(int keyDim, int valueDim) {
        return 2L * (keyDim + valueDim) + Integer.BYTES + statisticsBytes(true);
    }

    /** Bytes a head holds besides its entries: the key-balance factors. */
    long headBytes(int keyDim) {
        return balancesKeys ? (long) Float.BYTES * keyDim : 0;
    }

    /** Bytes of a head holding {@code counts}. */
    long bytesOf(EntryCounts counts, int keyDim, int valueDim) {
        long bytes = keptBytes(counts.kept(), counts.keptRuns(), keyDim, valueDim) + headBytes(keyDim);
        if (counts.lowPrecision() > 0) {
            bytes += counts.lowPrecision() * lowPrecisionEntryBytes(keyDim, valueDim);
        }
        return bytes + counts.merged() * mergedEntryBytes(keyDim, valueDim);
    }

    /** Attention received where tracked, and logit bias for merged entries (see {@link Entries}). */
    private int statisticsBytes(boolean biased) {
        return (tracksAttention ? Float.BYTES : 0) + (biased ? Float.BYTES : 0);
    }
}
