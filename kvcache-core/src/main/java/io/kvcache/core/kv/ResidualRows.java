package io.kvcache.core.kv;

/**
 * Rows of a quantized kv-type: the last {@code residual} rows in fp16, every earlier row quantized
 * (KIVI's full-precision residual). The newest entries draw most of the attention, so they keep
 * fp16 until {@code residual} newer rows have come; then they are encoded once, from their fp16
 * values. Which rows are fp16 is always the same function of the row count (the last
 * min(residual, rows)), so the stored form and the bytes depend on the count alone. When
 * compaction removes fp16 rows, the latest quantized rows move back into the fp16 tail, decoded.
 */
final class ResidualRows implements RowStore {
    private final LowBitRows codec;
    private final int residual;
    private final int width;
    private QuantizedRows older;
    private Float16Rows recent;
    private final float[] row;
    /** 1, 2, ..., residual: the fp16 rows that stay when the oldest leaves. */
    private final int[] shifted;

    ResidualRows(LowBitRows codec, int residual) {
        this.codec = codec;
        this.residual = residual;
        this.width = codec.width();
        this.older = new QuantizedRows(codec);
        this.recent = new Float16Rows(width);
        this.row = new float[width];
        this.shifted = new int[residual];
        for (int i = 0; i < residual; i++) {
            shifted[i] = i + 1;
        }
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int rows() {
        return older.rows() + recent.rows();
    }

    @Override
    public void append(float[] src, int off) {
        if (residual == 0) {
            older.append(src, off);
            return;
        }
        recent.append(src, off);
        if (recent.rows() > residual) {
            // the oldest fp16 row leaves the residual: encode it from its fp16 values
            recent.decode(0, 1, row, 0);
            older.append(row, 0);
            recent.retain(shifted, residual);
        }
    }

    @Override
    public void decode(int from, int count, float[] out, int outOff) {
        int quantized = older.rows();
        int fromOlder = Math.max(0, Math.min(count, quantized - from));
        if (fromOlder > 0) {
            older.decode(from, fromOlder, out, outOff);
        }
        if (count > fromOlder) {
            recent.decode(from + fromOlder - quantized, count - fromOlder, out, outOff + fromOlder * width);
        }
    }

    @Override
    public void retain(int[] kept, int count) {
        int tail = Math.min(residual, count);
        int firstTail = count - tail;
        float[] tailRows = new float[tail * width];
        for (int i = firstTail; i < count; i++) {
            decode(kept[i], 1, tailRows, (i - firstTail) * width);
        }
        // rows before the new tail were all quantized (the fp16 rows are the last ones)
        older.retain(kept, firstTail);
        recent.truncate(0);
        for (int i = 0; i < tail; i++) {
            recent.append(tailRows, i * width);
        }
    }

    @Override
    public void truncate(int rows) {
        int[] kept = new int[rows];
        for (int i = 0; i < rows; i++) {
            kept[i] = i;
        }
        retain(kept, rows);
    }

    @Override
    public ResidualRows copy() {
        ResidualRows copy = new ResidualRows(codec, residual);
        copy.older = older.copy();
        copy.recent = recent.copy();
        return copy;
    }

    @Override
    public long storedBytesOf(int rows) {
        int tail = Math.min(residual, rows);
        return (long) (rows - tail) * codec.bytesPerRow() + (long) tail * width * Short.BYTES;
    }

    /** The quantized rows' codes, then the fp16 tail. */
    @Override
    public byte[] storedBytes() {
        byte[] codes = older.storedBytes();
        byte[] halves = recent.storedBytes();
        byte[] out = java.util.Arrays.copyOf(codes, codes.length + halves.length);
        System.arraycopy(halves, 0, out, codes.length, halves.length);
        return out;
    }

    /** Only into an empty store (a restored cache): the count says which rows are fp16. */
    @Override
    public void appendStored(byte[] stored, int rows) {
        if (rows() != 0) {
            throw new IllegalStateException("residual rows are restored into an empty store only");
        }
        if (stored.length != storedBytesOf(rows)) {
            throw new IllegalArgumentException(stored.length + " bytes are not " + rows + " rows of " + width
                    + " with an fp16 residual of " + residual);
        }
        int quantized = rows - Math.min(residual, rows);
        int codeBytes = quantized * codec.bytesPerRow();
        older.appendStored(java.util.Arrays.copyOf(stored, codeBytes), quantized);
        recent.appendStored(java.util.Arrays.copyOfRange(stored, codeBytes, stored.length), rows - quantized);
    }

    @Override
    public long bytesHeld() {
        return older.bytesHeld() + recent.bytesHeld();
    }

    @Override
    public long bytesAllocated() {
        return older.bytesAllocated() + recent.bytesAllocated() + (long) Float.BYTES * row.length;
    }
}
