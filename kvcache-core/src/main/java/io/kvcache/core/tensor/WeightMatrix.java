package io.kvcache.core.tensor;

import io.kvcache.core.ModelFormatException;

import java.lang.foreign.MemorySegment;

/**
 * Row-major [rows x cols] matrix stored as {@code type}, read in place from {@code data} (a slice
 * of the mapped model file or any MemorySegment). Products follow llama.cpp's CPU backend: the
 * input rows are first converted to the type's activation format (see {@link Activations}), then
 * each output is a block-wise dot product.
 */
public final class WeightMatrix {
    /**
     * Rows per tile when several inputs are multiplied: a tile of this many weight bytes stays in
     * the L2 cache while every group of 4 inputs passes over it, so weights come from memory once.
     */
    private static final long TILE_BYTES = 128 * 1024;
    private static final ThreadLocal<Activations> SCRATCH = ThreadLocal.withInitial(Activations::new);
    private static final System.Logger LOG = System.getLogger(WeightMatrix.class.getName());

    private final String name;
    private final GgmlType type;
    private final int rows;
    private final int cols;
    private final MemorySegment data;
    private final Kernel kernel;
    private final long rowBytes;
    private final int tileRows;
    private final boolean batchOrder;
    /**
     * Whether {@link #groups} applies to this matrix (its type has a row-group layout for its row
     * count); cleared when the JVM refuses the copy's direct memory.
     */
    private volatile boolean grouped;
    /** The row-group copy, made at the first multiply (so loading stays a mapping); null until then. */
    private volatile RowGroups groups;

    private WeightMatrix(String name, GgmlType type, int rows, int cols, MemorySegment data, Kernel kernel) {
        this.name = name;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
        this.kernel = kernel;
        this.rowBytes = type.bytesFor(cols);
        this.tileRows = (int) Math.max(1, Math.min(rows, TILE_BYTES / rowBytes));
        this.batchOrder = kernel.batchOrder(rows, cols);
        this.grouped = RowGroups.applies(type, rows);
    }

    /**
     * Throws {@link UnsupportedTensorTypeException} when {@code type} is not one of
     * {@link GgmlType#SUPPORTED}, {@link ModelFormatException} when the shape does not fit the type
     * or {@code data} does not hold exactly rows*cols values of it.
     */
    public static WeightMatrix of(String name, GgmlType type, int rows, int cols, MemorySegment data) {
        Kernel kernel = Kernel.of(type, rows);
        if (kernel == null) {
            throw new UnsupportedTensorTypeException(name, type);
        }
        if (rows <= 0 || cols <= 0) {
            throw new ModelFormatException("tensor '" + name + "' has shape " + rows + " x " + cols);
        }
        if (cols % type.blockSize() != 0) {
            throw new ModelFormatException("tensor '" + name + "' of type " + type + " has " + cols
                    + " columns, not a multiple of the block size " + type.blockSize());
        }
        long expected = type.bytesFor((long) rows * cols);
        if (data.byteSize() != expected) {
            throw new ModelFormatException("tensor '" + name + "' (" + type + ", " + rows + " x " + cols
                    + ") needs " + expected + " bytes but has " + data.byteSize());
        }
        return new WeightMatrix(name, type, rows, cols, data, kernel);
    }

    public String name() {
        return name;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public GgmlType type() {
        return type;
    }

    /** The weights as stored (blocks of {@link #type()}, row after row), e.g. for copying them to a device. */
    public MemorySegment bytes() {
        return data;
    }

    /** Bytes of weights read by one multiply (for GB/s figures). */
    public long byteSize() {
        return data.byteSize();
    }

    /**
     * out[b*rows + r] = sum_c W[r][c] * x[b*cols + c] for b in [0,batch), r in [0,rows), with the
     * rows split across the threads of {@code pool}.
     */
    public void multiply(float[] x, int batch, float[] out, ComputePool pool) {
        if (batch < 1 || x.length < (long) batch * cols || out.length < (long) batch * rows) {
            throw new IllegalArgumentException("multiply " + name + " [" + rows + " x " + cols + "] by " + batch
                    + " input rows: x has " + x.length + " values, out has room for " + out.length);
        }
        RowGroups g = grouped ? groups(pool) : null;
        Activations a = SCRATCH.get();
        a.prepare(kernel.activations(), x, cols, batch);
        if (batch == 1) {
            a.convert(x, 0, 1);
        } else {
            pool.parallelFor(batch, (from, to) -> a.convert(x, from, to));
        }
        if (g != null) {
            int groups = rows / RowGroups.ROWS;
            pool.parallelFor(groups, (from, to) -> multiplyGroups(g, a, out, from, to));
            if (rows % RowGroups.ROWS != 0) {
                // The last rows (fewer than a group, e.g. of a vocabulary of 50257) by the type's kernel.
                multiplyRows(a, out, groups * RowGroups.ROWS, rows);
            }
        } else {
            pool.parallelFor(rows, (from, to) -> multiplyRows(a, out, from, to));
        }
    }

    private RowGroups groups(ComputePool pool) {
        RowGroups g = groups;
        if (g == null) {
            synchronized (this) {
                g = groups;
                if (g == null) {
                    RowGroups copy;
                    try {
                        copy = RowGroups.of(type, rows, cols);
                    } catch (OutOfMemoryError e) {
                        // The copy is native memory counted against -XX:MaxDirectMemorySize (by
                        // default the heap's maximum): without room for it this matrix multiplies
                        // from the file, with the same results at the per-row kernels' speed.
                        grouped = false;
                        LOG.log(System.Logger.Level.WARNING, "no direct memory for the row-group copy of {0} ({1});"
                                + " it multiplies from the model file at a fraction of the speed."
                                + " Raise -XX:MaxDirectMemorySize above the model file''s size.",
                                name, e.getMessage());
                        return null;
                    }
                    pool.parallelFor(rows / RowGroups.ROWS, (from, to) -> copy.copy(data, from, to));
                    groups = g = copy;
                    // Multiplies read the copy from now on: the file's pages of this matrix leave the
                    // resident set (madvise DONTNEED), or the process would hold the weights twice.
                    // A later read of them (a tied embedding's row lookup) faults its page back in.
                    if (data.isMapped()) {
                        data.unload();
                    }
                }
            }
        }
        return g;
    }

    private void multiplyGroups(RowGroups g, Activations a, float[] out, int from, int to) {
        int batch = a.batch;
        int n = RowGroups.ROWS;
        if (batch == 1) {
            for (int group = from; group < to; group++) {
                g.dot(group, a, 0, out, group * n);
            }
            return;
        }
        int tileGroups = Math.max(1, tileRows / n);
        for (int tile = from; tile < to; tile += tileGroups) {
            int end = Math.min(to, tile + tileGroups);
            int b = 0;
            for (; b + 4 <= batch; b += 4) {
                for (int group = tile; group < end; group++) {
                    g.dot4(group, a, b, out, b * rows + group * n, rows);
                }
            }
            for (; b < batch; b++) {
                for (int group = tile; group < end; group++) {
                    g.dot(group, a, b, out, b * rows + group * n);
                }
            }
        }
    }

    private void multiplyRows(Activations a, float[] out, int from, int to) {
        int batch = a.batch;
        if (batch == 1 || !batchOrder) {
            for (int b = 0; b < batch; b++) {
                for (int r = from; r < to; r++) {
                    out[b * rows + r] = kernel.dot(data, r * rowBytes, a, b);
                }
            }
            return;
        }
        for (int tile = from; tile < to; tile += tileRows) {
            int end = Math.min(to, tile + tileRows);
            int b = 0;
            for (; b + 4 <= batch; b += 4) {
                for (int r = tile; r < end; r++) {
                    kernel.dot4(data, r * rowBytes, a, b, out, b * rows + r, rows);
                }
            }
            for (; b < batch; b++) {
                for (int r = tile; r < end; r++) {
                    out[b * rows + r] = kernel.batchDot(data, r * rowBytes, a, b);
                }
            }
        }
    }

    /** Dequantizes row {@code row} into out[off .. off+cols) (embedding lookup). */
    public void readRow(int row, float[] out, int off) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " of " + name + " with " + rows + " rows");
        }
        kernel.readRow(data, row * rowBytes, cols, out, off);
    }

    @Override
    public String toString() {
        return name + " " + type + " [" + rows + " x " + cols + "]";
    }
}
