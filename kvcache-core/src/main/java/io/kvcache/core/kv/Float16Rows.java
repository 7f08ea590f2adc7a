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
    public long bytesHeld() {
        return (long) rows * width * Short.BYTES;
    }

    @Override
    public long bytesAllocated() {
        return (long) data.length * Short.BYTES;
    }
}
