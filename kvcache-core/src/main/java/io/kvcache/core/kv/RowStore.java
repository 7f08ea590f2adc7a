package io.kvcache.core.kv;

/**
 * Rows of one width (keys or values of one head) in some storage precision, in entry order.
 * Rows are appended at the end and removed by compaction; reading decodes to floats.
 */
sealed interface RowStore permits Float16Rows, QuantizedRows, ResidualRows {

    /** Floats per row. */
    int width();

    int rows();

    /** Encodes {@code src[off..off+width)} as a new last row. */
    void append(float[] src, int off);

    /** Decodes rows [from, from+count) into {@code out} from {@code outOff}, row after row. */
    void decode(int from, int count, float[] out, int outOff);

    /**
     * Keeps the rows whose indices are listed (ascending) in {@code kept[0..count)}, in that order,
     * and forgets the rest.
     */
    void retain(int[] kept, int count);

    /** Forgets rows from {@code rows} on. */
    void truncate(int rows);

    /** An independent store holding the same rows. */
    RowStore copy();

    /** Bytes of {@code rows} rows as stored (as {@link #storedBytes} gives them). */
    long storedBytesOf(int rows);

    /** The rows held, as stored, row after row (fp16 little-endian, or the codec's bytes). */
    byte[] storedBytes();

    /**
     * Appends {@code rows} rows given as {@link #storedBytes} gives them.
     *
     * @throws IllegalArgumentException when the length is not that of {@code rows} rows, or a row
     *                                  decodes to a value that is not finite
     * @throws IllegalStateException    where the store takes stored rows only when empty ({@link ResidualRows})
     */
    void appendStored(byte[] stored, int rows);

    /** Bytes of the rows held. */
    long bytesHeld();

    /** Bytes of the arrays behind them (at least {@link #bytesHeld}). */
    long bytesAllocated();
}
