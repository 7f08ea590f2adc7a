package io.kvcache.core.tensor;

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
 */
sealed interface RowGroups permits Q4KRowGroups, Q6KRowGroups, Q8_0RowGroups {
    /** Rows per group: one 16-bit lane each in a 256-bit vector. */
    int ROWS = 16;

    Activations.Format activations();

    /** The dot products of the group's rows with input column {@code col}, into {@code out[at .. at+15]}. */
    void dot(int group, Activations x, int col, float[] out, int at);

    /**
     * The dot products of the group's rows with input columns {@code col .. col+3}, each weight
     * loaded once: column {@code col+k} into {@code out[at + k*stride ..]}, in the order ggml sums
     * a batch of that type.
     */
    void dot4(int group, Activations x, int col, float[] out, int at, int stride);

    /**
     * Copies groups [from, to) of the {@code rows x cols} matrix in {@code data} into this layout;
     * groups are independent, so threads may split them.
     */
    void copy(MemorySegment data, int from, int to);

    /**
     * The row-group layout of a {@code rows x cols} matrix of {@code type}, allocated but not yet
     * filled (see {@link #copy}), or null when the type has none or {@code rows} is not a multiple
     * of {@link #ROWS}.
     */
    static RowGroups of(GgmlType type, int rows, int cols) {
        if (rows % ROWS != 0) {
            return null;
        }
        return switch (type) {
            case Q4_K -> new Q4KRowGroups(rows, cols);
            case Q6_K -> new Q6KRowGroups(rows, cols);
            case Q8_0 -> new Q8_0RowGroups(rows, cols);
            default -> null;
        };
    }

    /** Off-heap memory for a copy, freed when the matrix is no longer reachable. */
    static MemorySegment allocate(long bytes) {
        return Arena.ofAuto().allocate(bytes, 64);
    }
}
