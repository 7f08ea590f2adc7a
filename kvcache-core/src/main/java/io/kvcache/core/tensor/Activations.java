package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;

import static io.kvcache.core.tensor.Lanes.F;
import static io.kvcache.core.tensor.Lanes.L;
import static io.kvcache.core.tensor.Lanes.S;

/**
 * The input rows of one multiply, converted the way ggml's CPU backend converts them to the
 * weight type's "vec_dot_type" before taking dot products. Quantized values are kept as floats
 * (small integers, exact) so kernels can multiply them with the decoded weights in float lanes:
 * every partial sum of a block stays below 2^24 and is therefore the exact integer sum ggml forms.
 *
 * <p>Column {@code b} (one input row) occupies {@code values[b*cols, (b+1)*cols)}, its block scales
 * {@code scales[b*cols/blockSize ...]} and, for Q8_K, its sums of 16 quants {@code sums[b*cols/16 ...]}
 * (see {@link #sums} for their order).
 * Instances are scratch buffers reused across calls by one thread.
 */
final class Activations {
    /** How a weight type wants its activations. */
    enum Format {
        /** Unchanged floats (F32 weights). */
        F32,
        /** Rounded to fp16 (F16 weights). */
        F16,
        /**
         * Rounded to bf16 (BF16 weights); each whole 32-value chunk stored as its 16 even-indexed
         * values, then its 16 odd-indexed ones (see {@link BF16Kernel}), the rest in order.
         */
        BF16,
        /**
         * Blocks of 32: fp16 scale amax/127, quants round(x*127/amax) (Q8_0 weights, and Q4_0
         * matrices llama.cpp does not repack), each block stored in {@link #Q8_0_ORDER}.
         */
        Q8_0,
        /** As {@link #Q8_0}, the quants in their own order (Q4_0 matrices llama.cpp repacks). */
        Q8_0_PLAIN,
        /**
         * Blocks of 256: float scale, quants, and sums of each 16 quants (K-quant weights summed as
         * ggml's vec_dot sums them); each 32 quants stored in {@link #Q8_0_ORDER}.
         */
        Q8_K,
        /**
         * As {@link #Q8_K}, the quants in their own order, and the input rows that llama.cpp's
         * repacked GEMM quantizes four at a time (all but the last {@code batch % 4}) with that
         * quantizer's choice of sign (Q4_K matrices llama.cpp repacks).
         */
        Q8_K_PLAIN
    }

    /**
     * The order of the 32 quants of a Q8_0 block in {@link #values}: position 8k+t holds quant
     * 4t+k. ggml's AVX2 dot products sum each 4 consecutive quants into one of 8 integer lanes and
     * then accumulate the lanes across blocks in float; with the quants in this order, lane t of
     * the k-th 8-lane slice holds the k-th member of group t, so four fused multiply-adds of
     * slices form exactly those 8 integer sums (see {@link Q8_0Kernel}).
     */
    static final int[] Q8_0_ORDER = new int[32];
    /** The inverse of {@link #Q8_0_ORDER}: where quant i of a block is stored. */
    static final int[] Q8_0_POSITION = new int[32];

    static {
        for (int k = 0; k < 4; k++) {
            for (int t = 0; t < 8; t++) {
                Q8_0_ORDER[8 * k + t] = 4 * t + k;
                Q8_0_POSITION[4 * t + k] = 8 * k + t;
            }
        }
    }

    private static final int[] IDENTITY = new int[32];

    static {
        for (int i = 0; i < 32; i++) {
            IDENTITY[i] = i;
        }
    }

    private static final float ROUNDING_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer, ties to even

    Format format;
    int cols;
    int batch;
    /** The converted values: {@link #owned}, or the caller's input itself for F32. */
    float[] values;
    private float[] owned = new float[0];
    float[] scales = new float[0];
    /**
     * Per 256-value block, the sums of its 16 groups of 16 quants: those of the even groups 0, 2, ..
     * 14 first, then those of the odd ones, so that an 8-lane load gives the first or the second
     * group of each 32 values (ggml pairs them: its bsums[2j] and bsums[2j+1]).
     */
    int[] sums = new int[0];
    /**
     * For the Q8_0 and Q8_K formats, the quants again as 16-bit integers in their own order, two to
     * an int: quant 2k in the low half of pairs[k], quant 2k+1 in the high half. The kernels of
     * {@link RowGroups} broadcast one int to every 32-bit lane and multiply it, as 16-bit halves,
     * with the two weights of a row that those quants meet (a product of two 8-bit quants, or of
     * a 6-bit and an 8-bit one, fits in 16 bits).
     */
    int[] pairs = new int[0];

    /** Sizes the buffers for {@code batch} rows of {@code cols}; call before {@link #convert}. */
    void prepare(Format format, float[] x, int cols, int batch) {
        this.format = format;
        this.cols = cols;
        this.batch = batch;
        int n = cols * batch;
        if (format == Format.F32) {
            values = x; // read in place
            return;
        }
        if (owned.length < n) {
            owned = new float[n];
        }
        values = owned;
        if (format.ordinal() >= Format.Q8_0.ordinal() && pairs.length < n / 2) {
            pairs = new int[n / 2];
        }
        if ((format == Format.Q8_0 || format == Format.Q8_0_PLAIN) && scales.length < n / 32) {
            scales = new float[n / 32];
        }
        if (format == Format.Q8_K || format == Format.Q8_K_PLAIN) {
            if (scales.length < n / 256) {
                scales = new float[n / 256];
            }
            if (sums.length < n / 16) {
                sums = new int[n / 16];
            }
        }
    }

    /** Converts input rows [from, to) of {@code x}; rows are independent, so threads may split them. */
    void convert(float[] x, int from, int to) {
        int start = from * cols;
        int end = to * cols;
        switch (format) {
            case F32 -> { }
            case F16 -> {
                for (int i = start; i < end; i++) {
                    values[i] = Float16s.round(x[i]);
                }
            }
            case BF16 -> {
                for (int row = from; row < to; row++) {
                    int at = row * cols;
                    int chunks = cols - cols % 32;
                    for (int c = 0; c < chunks; c += 32) {
                        for (int j = 0; j < 16; j++) {
                            values[at + c + j] = BFloat16s.round(x[at + c + 2 * j]);
                            values[at + c + 16 + j] = BFloat16s.round(x[at + c + 2 * j + 1]);
                        }
                    }
                    for (int i = chunks; i < cols; i++) {
                        values[at + i] = BFloat16s.round(x[at + i]);
                    }
                }
            }
            case Q8_0, Q8_0_PLAIN -> {
                int[] order = format == Format.Q8_0 ? Q8_0_ORDER : IDENTITY;
                for (int at = start; at < end; at += 32) {
                    quantizeQ8_0(x, at, order);
                }
            }
            case Q8_K, Q8_K_PLAIN -> {
                int grouped = format == Format.Q8_K_PLAIN ? (batch - batch % 4) * cols : 0;
                int[] position = format == Format.Q8_K ? Q8_0_POSITION : IDENTITY;
                for (int at = start; at < end; at += 256) {
                    quantizeQ8K(x, at, at < grouped, position);
                }
            }
        }
    }

    /**
     * ggml's x86 quantize_row_q8_0 (and ggml_quantize_mat_q8_0_4x8, which quantizes the same way):
     * d = amax/127 stored as fp16, q = rint(x * (127/amax)); quant {@code order[i]} stored at i.
     * Vector by vector: the rounding is the same multiply, add and subtract per lane; the pairs come
     * from the quants in their own order, narrowed to 16 bits and read two to an int.
     */
    private void quantizeQ8_0(float[] x, int at, int[] order) {
        FloatVector max = FloatVector.zero(F);
        for (int v = 0; v < 32; v += L) {
            max = max.max(FloatVector.fromArray(F, x, at + v).abs());
        }
        float amax = max.reduceLanes(VectorOperators.MAX);
        float inverse = amax != 0 ? 127f / amax : 0f;
        for (int v = 0; v < 32; v += L) {
            FloatVector q = FloatVector.fromArray(F, x, at + v).mul(inverse).add(ROUNDING_MAGIC).sub(ROUNDING_MAGIC);
            ((ShortVector) q.convert(VectorOperators.F2I, 0).convertShape(VectorOperators.I2S, S, 0))
                    .reinterpretAsInts().intoArray(pairs, (at + v) / 2);
            if (order != IDENTITY) {
                q = FloatVector.fromArray(F, x, at, order, v).mul(inverse).add(ROUNDING_MAGIC).sub(ROUNDING_MAGIC);
            }
            q.intoArray(values, at + v);
        }
        scales[at / 32] = Float16s.round(amax / 127f);
    }

    /**
     * ggml's quantize_row_q8_K_ref: the scale comes from the first value of largest magnitude
     * (signed), iscale = -127/max, q = min(127, nearest_int(iscale*x)), d = 1/iscale. With
     * {@code grouped}, as ggml_quantize_mat_q8_K_4x8 (x86), which differs only in the sign when
     * both +amax and -amax occur: it takes -127/amax whenever some value equals +amax. Quant i of
     * each 32 is stored at {@code position[i]}; the sums of 16 are of the quants in their own order,
     * stored as {@link #sums} describes.
     */
    private void quantizeQ8K(float[] x, int at, boolean grouped, int[] position) {
        FloatVector maxAbs = FloatVector.zero(F);
        for (int v = 0; v < 256; v += L) {
            maxAbs = maxAbs.max(FloatVector.fromArray(F, x, at + v).abs());
        }
        float amax = maxAbs.reduceLanes(VectorOperators.MAX);
        if (amax == 0) {
            Arrays.fill(values, at, at + 256, 0f);
            Arrays.fill(pairs, at / 2, at / 2 + 128, 0);
            Arrays.fill(sums, at / 16, at / 16 + 16, 0);
            scales[at / 256] = 0;
            return;
        }
        float max = amax;
        if (!grouped || !contains(x, at, amax)) {
            int first = at;
            while (Math.abs(x[first]) != amax && first < at + 255) { // bounded: a NaN matches nothing
                first++;
            }
            max = x[first];
        }
        float iscale = -127f / max;
        for (int group = 0; group < 16; group++) {
            int g = at + 16 * group;
            int chunk = g - g % 32;
            int sum = 0;
            for (int i = g; i < g + 16; i += 2) {
                float q0 = Math.min(x[i] * iscale + ROUNDING_MAGIC - ROUNDING_MAGIC, 127f);
                float q1 = Math.min(x[i + 1] * iscale + ROUNDING_MAGIC - ROUNDING_MAGIC, 127f);
                values[chunk + position[i - chunk]] = q0;
                values[chunk + position[i + 1 - chunk]] = q1;
                pairs[i / 2] = pair((int) q0, (int) q1);
                sum += (int) q0 + (int) q1;
            }
            sums[at / 16 + (group >> 1) + 8 * (group & 1)] = sum;
        }
        scales[at / 256] = 1f / iscale;
    }

    /** Quants {@code lo} and {@code hi} as the low and high 16-bit halves of one int. */
    private static int pair(int lo, int hi) {
        return lo & 0xFFFF | hi << 16;
    }

    private static boolean contains(float[] x, int at, float value) {
        for (int i = at; i < at + 256; i++) {
            if (x[i] == value) {
                return true;
            }
        }
        return false;
    }
}
