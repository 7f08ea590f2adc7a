package io.kvcache.core.kv;

import java.util.Arrays;

/** Rows quantized by a {@link LowBitRows} codec (int8 or low-bit, with their group scales inside each row). */
final class QuantizedRows implements RowStore {
    private static final int INITIAL_ROWS = 64;

    private final LowBitRows codec;
    private final int rowBytes;
    private byte[] data;
    private int rows;

    QuantizedRows(LowBitRows codec) {
        this.codec = codec;
        this.rowBytes = codec.bytesPerRow();
        this.data = new byte[INITIAL_ROWS * rowBytes];
    }

    LowBitRows codec() {
        return codec;
    }

    /** The encoded rows, {@link LowBitRows#bytesPerRow()} bytes each from index 0 (the array may be longer). */
    byte[] data() {
        return data;
    }

    @Override
    public int width() {
        return codec.width();
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public void append(float[] src, int off) {
        if ((rows + 1) * rowBytes > data.length) {
            data = Arrays.copyOf(data, data.length * 2);
        }
        codec.encode(src, off, data, rows * rowBytes);
        rows++;
    }

    @Override
    public void decode(int from, int count, float[] out, int outOff) {
        int width = codec.width();
        for (int r = 0; r < count; r++) {
            codec.decode(data, (from + r) * rowBytes, out, outOff + r * width);
        }
    }

    @Override
    public void retain(int[] kept, int count) {
        for (int i = 0; i < count; i++) {
            if (kept[i] != i) {
                System.arraycopy(data, kept[i] * rowBytes, data, i * rowBytes, rowBytes);
            }
        }
        truncate(count);
    }

    @Override
    public void truncate(int rows) {
        this.rows = rows;
        // Give memory back once the rows fill less than a quarter of the array.
        if (rows * rowBytes * 4 < data.length && data.length > INITIAL_ROWS * rowBytes) {
            data = Arrays.copyOf(data, Math.max(INITIAL_ROWS, rows * 2) * rowBytes);
        }
    }

    @Override
    public QuantizedRows copy() {
        QuantizedRows copy = new QuantizedRows(codec);
        copy.data = data.clone();
        copy.rows = rows;
        return copy;
    }

    @Override
    public long storedBytesOf(int rows) {
        return (long) rows * rowBytes;
    }

    @Override
    public byte[] storedBytes() {
        return Arrays.copyOf(data, rows * rowBytes);
    }

    @Override
    public void appendStored(byte[] stored, int count) {
        if ((long) count * rowBytes != stored.length) {
            throw new IllegalArgumentException(stored.length + " bytes are not " + count + " rows of " + rowBytes + " bytes");
        }
        float[] row = new float[codec.width()];
        for (int r = 0; r < count; r++) {
            codec.decode(stored, r * rowBytes, row, 0);
            for (float x : row) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("quantized row " + r + " decodes to a value that is not finite");
                }
            }
        }
        int needed = (rows + count) * rowBytes;
        if (needed > data.length) {
            data = Arrays.copyOf(data, Math.max(needed, data.length * 2));
        }
        System.arraycopy(stored, 0, data, rows * rowBytes, stored.length);
        rows += count;
    }

    @Override
    public long bytesHeld() {
        return (long) rows * rowBytes;
    }

    @Override
    public long bytesAllocated() {
        return data.length;
    }
}
