package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A quantized matrix copied, at its first multiply, into groups of {@link #ROWS} rows whose
 * quants are interleaved value by value: one 16-byte load gives the same value of 16 rows, so a
 * vector lane is a row. The Vector API offers no 8-bit dot-product instruction, and summing the
 * values of one row across lanes costs a horizontal reduction per block; with a lane per row,
 * each activation quant is broadcast once and multiplied into 16 rows in 16-bit lanes, and every
 * per-row sum ggml forms (an integer per block, per 64 values, or per lane of its 8-lane
 * accumulators) is a plain vector, with no reduction. Block scales are decoded once, at the copy.
 *
 * <p>The sums are exact integers however they are grouped, so the results are those of the type's
 * {@link Kernel}, bit for bit: each implementation keeps that kernel's float accumulation order.
 * llama.cpp repacks Q4_0 and Q4_K matrices at load for the same reason (its "8x8" layouts).
 *
 * <p>Within a group, quants are stored in pairs: values 2k and 2k+1 of row r side by side at
 * 32k + 2r and 32k + 2r + 1 (as bytes of one block, {@link #pairAt}). One 32-byte load widened to
 * 32 16-bit lanes ({@link #S32}) then holds two values of each of the 16 rows, and one broadcast
 * int of {@link Activations#pairs} holds the two activation quants they meet: a single 16-bit
 * multiply forms 32 products, and when the sum is widened each row's two lanes are added into one
 * 32-bit lane (the int's arithmetic shift right by 16, plus its low half sign-extended). This
 * halves the broadcasts and multiplies of a lane per row and value, with the same integer sums.
 * Broadcasts and pair sums are written out in each loop: a vector that crosses a call is boxed
 * where the JIT does not inline it.
 *
 * <p>The copy is laid out group after group, and within a group block after block, each
 * {@link #groupBytes} long: an implementation says where the 16 rows' parts of one block go in
 * that span ({@link #copyBlock}).
 */
abstract sealed class RowGroups permits Q4KRowGroups, Q6KRowGroups, Q8_0RowGroups {
    /** Rows per group: one 16-bit lane each in a 256-bit vector. */
    static final int ROWS = 16;
    /** One byte per row of a group. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** One 16-bit lane per row of a group. */
    static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
    /** Two bytes per row of a group: a pair of values. */
    static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    /** Two 16-bit lanes per row of a group: a pair of values, or a pair of partial sums. */
    static final VectorSpecies<Short> S32 = ShortVector.SPECIES_512;
    /** One 32-bit integer lane per row of a group. */
    static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    /** One float lane per row of a group. */
    static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;

    /**
     * Per thread, the 8 lane accumulators of one group for each of 4 input columns (lane t of
     * column k at 16(8k+t)), for the types that add them as hsum_float_8 does ({@link #hsum8}).
     */
    static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[4 * 8 * ROWS]);

    /** Columns of the matrix. */
    final int cols;
    /** Blocks of the type per row. */
    final int blocks;
    /** Bytes of one block of a group's 16 rows in the copy. */
    final int groupBytes;
    /** The copy, off the heap, freed when the matrix is no longer reachable. */
    final MemorySegment groups;
    private final int blockBytes;

    RowGroups(GgmlType type, int rows, int cols, int groupBytes) {
        this.cols = cols;
        this.blocks = cols / type.blockSize();
        this.groupBytes = groupBytes;
        this.blockBytes = type.blockBytes();
        this.groups = Arena.ofAuto().allocate((long) rows / ROWS * blocks * groupBytes, 64);
    }

    abstract Activations.Format activations();

    /** The dot products of the group's rows with input column {@code col}, into {@code out[at .. at+15]}. */
    abstract void dot(int group, Activations x, int col, float[] out, int at);

    /**
     * The dot products of the group's rows with input columns {@code col .. col+3}, each weight
     * loaded once: column {@code col+k} into {@code out[at + k*stride ..]}, in the order ggml sums
     * a batch of that type.
     */
    abstract void dot4(int group, Activations x, int col, float[] out, int at, int stride);

    /**
     * Copies one block of the file (at {@code src} in {@code data}), that of row {@code row} of
     * its group, into that group's block at {@code dst} of {@link #groups}.
     */
    abstract void copyBlock(MemorySegment data, long src, long dst, int row);

    /**
     * Copies groups [from, to) of the matrix in {@code data} (its blocks as the file holds them,
     * row after row) into this layout; groups are independent, so threads may split them.
     */
    final void copy(MemorySegment data, int from, int to) {
        long rowBytes = (long) blocks * blockBytes;
        for (int g = from; g < to; g++) {
            for (int b = 0; b < blocks; b++) {
                long dst = ((long) g * blocks + b) * groupBytes;
                for (int r = 0; r < ROWS; r++) {
                    copyBlock(data, ((long) g * ROWS + r) * rowBytes + (long) b * blockBytes, dst, r);
                }
            }
        }
    }

    /**
     * The row-group layout of the first {@code rows / ROWS} groups of a {@code rows x cols} matrix
     * of {@code type}, allocated but not yet filled (see {@link #copy}), or null where
     * {@link #applies} does not. The last {@code rows % ROWS} rows are left to the type's
     * {@link Kernel}, which sums as these kernels do.
     */
    static RowGroups of(GgmlType type, int rows, int cols) {
        if (!applies(type, rows)) {
            return null;
        }
        int grouped = rows - rows % ROWS;
        return switch (type) {
            case Q4_K -> new Q4KRowGroups(grouped, cols);
            case Q6_K -> new Q6KRowGroups(grouped, cols);
            case Q8_0 -> new Q8_0RowGroups(grouped, cols);
            default -> null;
        };
    }

    /**
     * Whether a matrix of {@code type} with {@code rows} rows has a row-group layout: Q6_K and Q8_0
     * with at least {@link #ROWS} rows, Q4_K where llama.cpp repacks it (rows a multiple of 8;
     * otherwise it sums as vec_dot, in another order).
     */
    static boolean applies(GgmlType type, int rows) {
        return rows >= ROWS && (type == GgmlType.Q6_K || type == GgmlType.Q8_0 || type == GgmlType.Q4_K && rows % 8 == 0);
    }

    /** Where, in a group's block, the byte of value {@code v} of row {@code r} is: pairs of values side by side. */
    static int pairAt(int v, int r) {
        return ROWS * (v & ~1) + 2 * r + (v & 1);
    }

    /**
     * hsum_float_8 of each row's 8 lanes (lane t at lanes[from + 16t ..]): (l0+l4)+(l2+l6), plus
     * (l1+l5)+(l3+l7), into {@code out[at .. at+15]}.
     */
    static void hsum8(float[] lanes, int from, float[] out, int at) {
        FloatVector l0 = FloatVector.fromArray(F16, lanes, from);
        FloatVector l1 = FloatVector.fromArray(F16, lanes, from + ROWS);
        FloatVector l2 = FloatVector.fromArray(F16, lanes, from + 2 * ROWS);
        FloatVector l3 = FloatVector.fromArray(F16, lanes, from + 3 * ROWS);
        FloatVector l4 = FloatVector.fromArray(F16, lanes, from + 4 * ROWS);
        FloatVector l5 = FloatVector.fromArray(F16, lanes, from + 5 * ROWS);
        FloatVector l6 = FloatVector.fromArray(F16, lanes, from + 6 * ROWS);
        FloatVector l7 = FloatVector.fromArray(F16, lanes, from + 7 * ROWS);
        FloatVector even = l0.add(l4).add(l2.add(l6));
        FloatVector odd = l1.add(l5).add(l3.add(l7));
        even.add(odd).intoArray(out, at);
    }
}
