package io.kvcache.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Dot products of one weight type's rows with activations in that type's {@link Activations.Format}.
 * A row starts at byte offset {@code row} of {@code w} and has {@code x.cols} values. Each
 * implementation holds its own copy of the loops: a loop shared through a virtual call would see
 * several types, and its vectors would then be boxed instead of living in registers.
 */
interface Kernel {
    Activations.Format activations();

    /**
     * The dot product of a row with input column {@code col}, summed as ggml's vec_dot for this
     * type sums it: what llama.cpp computes for a one-row input (a decode step).
     */
    float dot(MemorySegment w, long row, Activations x, int col);

    /**
     * Whether llama.cpp multiplies a batch of several input rows by a {@code rows x cols} matrix of
     * this type in the order of {@link #batchDot} and {@link #dot4}; when not, every column of a
     * batch is summed as {@link #dot} sums it.
     */
    default boolean batchOrder(int rows, int cols) {
        return true;
    }

    /** The dot product of a row with input column {@code col} of a batch of several input rows. */
    default float batchDot(MemorySegment w, long row, Activations x, int col) {
        return dot(w, row, x, col);
    }

    /**
     * The {@link #batchDot}s of a row with input columns {@code col .. col+3}, decoding the row once;
     * the result for column {@code col+k} goes to {@code out[at + k*stride]}.
     */
    void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride);

    /** Decodes {@code cols} values starting at byte offset {@code row} into {@code out[off ..]}. */
    void readRow(MemorySegment w, long row, int cols, float[] out, int off);

    /**
     * The kernel of a {@code rows}-row matrix of {@code type}, or null when kvcache cannot compute
     * with it. llama.cpp's x86 CPU backend repacks Q4_0 and Q4_K matrices whose row count is a
     * multiple of 8 and then sums in the order of its repacked kernels; the row count decides.
     */
    static Kernel of(GgmlType type, int rows) {
        boolean repacked = rows % 8 == 0;
        return switch (type) {
            case F32 -> new F32Kernel();
            case F16 -> new F16Kernel();
            case BF16 -> new BF16Kernel();
            case Q8_0 -> new Q8_0Kernel();
            case Q4_0 -> repacked ? new Q4_0x8Kernel() : new Q4_0Kernel();
            case Q4_K -> new Q4KKernel(repacked);
            case Q5_K -> new Q5KKernel();
            case Q6_K -> new Q6KKernel();
            default -> null;
        };
    }
}
