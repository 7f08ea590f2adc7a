package io.kvcache.core.kv;

import io.kvcache.core.tensor.Float16s;

import java.util.Arrays;

/** Rows stored as fp16: the precision of the {@code full} cache. */
final class Float16Rows implements RowStore {
    private static final int INITIAL_ROWS = 64;

    private final int width;
    private short[] data;
    private int rows;

    Float16Rows(int width) {
        this.width = width;
        this.data = new short[INITIAL_ROWS * width];
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public void append(float[] src, int off) {
        if ((rows + 1) * width > data.length) {
            data = Arrays.copyOf(data, data.length * 2);
        }
        Float16s.toHalves(src, off, data, rows * width, width);
        rows++;
    }

    @Override
    public void decode(int from, int count, float[] out, int outOff) {
        Float16s.toFloats(data, from * width, out, outOff, count * width);
    }

    @Override
    public void retain(int[] kept, int count) {
        for (int i = 0; i < count; i++) {
            if (kept[i] != i) {
                System.arraycopy(data, kept[i] * width, data, i * width, width);
            }
        }
        truncate(count);
    }

    @Override
    public void truncate(int rows) {
        this.rows = rows;
        // Give memory back once the rows fill less than a quarter of the array.
        if (rows * width * 4 < data.length && data.length > INITIAL_ROWS * width) {
            data = Arrays.copyOf(data, Math.max(INITIAL_ROWS, rows * 2) * width);
        }
    }

    @Override
    public Float16Rows copy() {
        Float16Rows copy = new Float16Rows(width);
        copy.data = data.clone();
        copy.rows = rows;
        return copy;
    }

    @Override
    public long storedBytesOf(int rows) {
        return (long) rows * width * Short.BYTES;
    }

    @Override
    public byte[] storedBytes() {
        byte[] out = new byte[rows * width * Short.BYTES];
        for (int i = 0; i < rows * width; i++) {
            out[2 * i] = (byte) data[i];
            out[2 * i + 1] = (byte) (data[i] >> 8);
        }
        return out;
    }

    @Override
    public void appendStored(byte[] stored, int count) {
        if ((long) count * width * Short.BYTES != stored.length) {
            throw new IllegalArgumentException(stored.length + " bytes are not " + count + " fp16 rows of " + width);
        }
        short[] halves = new short[count * width];
        for (int i = 0; i < halves.length; i++) {
            halves[i] = (short) ((stored[2 * i] & 0xFF) | stored[2 * i + 1] << 8);
            // exponent bits all set: infinity or NaN, which no computed key or value is
            if ((halves[i] & 0x7C00) == 0x7C00) {
                throw new IllegalArgumentException("fp16 row " + i / width + " holds a value that is not finite");
            }
        }
        int needed = (rows + count) * width;
        if (needed > data.length) {
            data = Arrays.copyOf(data, Math.max(needed, data.length * 2));
        }
        System.arraycopy(halves, 0, data, rows * width, halves.length);
        rows += count;
    }

    @Override
    public long bytesHeld() {
        return (long) rows * width * Short.BYTES;
    }

    @Override
    public long bytesAllocated() {
        return (long) data.length * Short.BYTES;
    }
}
