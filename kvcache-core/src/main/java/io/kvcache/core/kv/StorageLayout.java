package io.kvcache.core.kv;

/**
 * How a head stores its entries, fixed by the policy: the precision of the entries it keeps as
 * they are, whether it also keeps a low-precision class (and with which key balancing), whether it
 * holds merged entries, and whether it tracks the attention each entry receives.
 *
 * @param highBits        16 (fp16) or 8 (int8 with group-wise scales) for the entries kept as they are
 * @param lowBits         0 (no low-precision class), or 2, 3 or 4 for entries a policy demotes
 * @param groupSize       values per scale group of the quantized classes
 * @param balancesKeys    whether low-precision keys are stored divided by per-channel factors
 * @param merges          whether the head holds merged (span) entries
 * @param tracksAttention whether each entry's received attention is accumulated
 */
public record StorageLayout(int highBits, int lowBits, int groupSize, boolean balancesKeys, boolean merges,
                            boolean tracksAttention) {

    /** The {@code full} cache: fp16, nothing else. */
    public static final StorageLayout FULL = new StorageLayout(16, 0, 32, false, false, false);

    RowStore highRows(int width) {
        return highBits == 16 ? new HalfRows(width) : new QuantizedRows(new LowBitRows(width, highBits, Math.min(groupSize, width)));
    }

    RowStore lowRows(int width) {
        return new QuantizedRows(new LowBitRows(width, lowBits, Math.min(groupSize, width)));
    }
}
