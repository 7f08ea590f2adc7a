package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.B;
import static io.kvcache.core.tensor.Lanes.F;
import static io.kvcache.core.tensor.Lanes.H;
import static io.kvcache.core.tensor.Lanes.HI;
import static io.kvcache.core.tensor.Lanes.I;
import static io.kvcache.core.tensor.Lanes.INT;
import static io.kvcache.core.tensor.Lanes.L;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q4_K weights times Q8_K activations. A super-block of 256 values is fp16 d, fp16 dmin, 12 bytes
 * of 6-bit scales and mins ({@link KScales}) and qs[128]: 32 bytes per 64 values, low nibbles for
 * the first 32 (sub-block 2j), high nibbles for the next 32 (2j+1); value = d*scale*q - dmin*min.
 * Two orders, as llama.cpp's x86 CPU backend chooses them:
 *
 * <ul>
 * <li>Matrices whose row count is a multiple of 8 are repacked at load ("q4_K_8x8") and multiplied
 * by ggml_gemv_q4_K_8x8_q8_K (one input row) and ggml_gemm_q4_K_8x8_q8_K (each 4 input rows of a
 * batch; the last batch%4 go through the GEMV). Both keep per row two float accumulators, one for
 * d*sum_j scale_j*isum_j and one for dmin*sum_j min_j*xsum_j (isum_j the integer dot of sub-block j,
 * xsum_j the sum of its activation quants), and return their difference; each integer is added with
 * one fused multiply-add by d*d_x (dmin*d_x). The GEMV adds the integers of a whole super-block at
 * once, the GEMM those of each 64 values (two sub-blocks). Integers are exact, so the activations
 * can stay in their own order ({@link Activations.Format#Q8_K_PLAIN}).</li>
 * <li>Other matrices: ggml_vec_dot_q4_K_q8_K, AVX2 (which AVX-512 builds use too), for batches as
 * well: 8 integer lanes per super-block, lane t collecting scale*q*q_x of the values 4t..4t+3 of
 * every 32, accumulated with one fused multiply-add by d*d_x each; the mins in 4 float lanes, lane
 * i adding min_2i*xsum_2i + min_2i+1*xsum_2i+1 with one fused multiply-add by -d_x*dmin; the result
 * is hsum_float_8 of the 8 lanes plus (lane 0 + lane 2) + (lane 1 + lane 3) of the 4. The lanes are
 * built as in {@link Q6KKernel} from activations in {@link Activations#Q8_0_ORDER}.</li>
 * </ul>
 *
 * Every partial sum is an integer below 2^24 (at most 32 * 63 * 15 * 127 per lane), hence exact in
 * float; the repacked kernels convert their lane sums to int before adding them up. The decoding is
 * written out in each loop: a vector that crosses a call is boxed.
 */
final class Q4KKernel implements Kernel {
    private static final int BLOCK_BYTES = 144;

    private final boolean repacked;

    /** {@code repacked}: llama.cpp repacks the matrix (its row count is a multiple of 8). */
    Q4KKernel(boolean repacked) {
        this.repacked = repacked;
    }

    @Override
    public Activations.Format activations() {
        return repacked ? Activations.Format.Q8_K_PLAIN : Activations.Format.Q8_K;
    }

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        return repacked ? gemv(w, row, x, col) : vecDot(w, row, x, col);
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        if (repacked) {
            gemm4(w, row, x, col, out, at, stride);
        } else {
            vecDot4(w, row, x, col, out, at, stride);
        }
    }

    /** ggml_gemv_q4_K_8x8_q8_K for one row: one integer per super-block into each accumulator. */
    private static float gemv(MemorySegment w, long row, Activations x, int col) {
        int blocks = x.cols / 256;
        float[] v = x.values;
        int[] sums = x.sums;
        int xo = col * x.cols;
        float acc = 0;
        float accMin = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            int a = w.get(INT, p + 4);
            int m = w.get(INT, p + 8);
            int c = w.get(INT, p + 12);
            long scales = KScales.scales(a, m, c);
            long mins = KScales.mins(a, m, c);
            int xb = xo + 256 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < 4; j++) {
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int i = 0; i < 32; i += L) {
                    // Nibbles split on int lanes: x86 has no byte shifts, so byte lanes would be widened anyway.
                    IntVector packed = (IntVector) ByteVector.fromMemorySegment(B, w, p + 16 + 32 * j + i, LE)
                            .convertShape(VectorOperators.B2I, I, 0);
                    lo = ((FloatVector) packed.and(0x0F).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, v, xb + 64 * j + i), lo);
                    hi = ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and(0x0F).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, v, xb + 64 * j + 32 + i), hi);
                }
                sum = lo.fma(FloatVector.broadcast(F, (float) KScales.get(scales, 2 * j)), sum);
                sum = hi.fma(FloatVector.broadcast(F, (float) KScales.get(scales, 2 * j + 1)), sum);
            }
            int isum = ((IntVector) sum.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD);
            int g = xb / 16;
            int minSum = 0;
            for (int j = 0; j < 8; j++) {
                minSum += KScales.get(mins, j) * (sums[g + j] + sums[g + 8 + j]);
            }
            float dx = x.scales[col * blocks + b];
            acc = Math.fma((float) isum, Float16s.toFloat(w.get(SHORT, p)) * dx, acc);
            accMin = Math.fma((float) minSum, Float16s.toFloat(w.get(SHORT, p + 2)) * dx, accMin);
        }
        return acc - accMin;
    }

    /** ggml_gemm_q4_K_8x8_q8_K for four input rows: one integer per 64 values into each accumulator. */
    private static void gemm4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        int blocks = n / 256;
        float[] v = x.values;
        float[] xs = x.scales;
        int[] sums = x.sums;
        int x0 = col * n;
        int gn = n / 16;
        float acc0 = 0;
        float acc1 = 0;
        float acc2 = 0;
        float acc3 = 0;
        float min0 = 0;
        float min1 = 0;
        float min2 = 0;
        float min3 = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            int a = w.get(INT, p + 4);
            int m = w.get(INT, p + 8);
            int c = w.get(INT, p + 12);
            long scales = KScales.scales(a, m, c);
            long mins = KScales.mins(a, m, c);
            float d = Float16s.toFloat(w.get(SHORT, p));
            float dmin = Float16s.toFloat(w.get(SHORT, p + 2));
            int s = col * blocks + b;
            float d0 = d * xs[s];
            float d1 = d * xs[s + blocks];
            float d2 = d * xs[s + 2 * blocks];
            float d3 = d * xs[s + 3 * blocks];
            float m0 = dmin * xs[s];
            float m1 = dmin * xs[s + blocks];
            float m2 = dmin * xs[s + 2 * blocks];
            float m3 = dmin * xs[s + 3 * blocks];
            int xb = x0 + 256 * b;
            int g = xb / 16;
            for (int j = 0; j < 4; j++) {
                float scaleLo = KScales.get(scales, 2 * j);
                float scaleHi = KScales.get(scales, 2 * j + 1);
                FloatVector sum0 = FloatVector.zero(F);
                FloatVector sum1 = FloatVector.zero(F);
                FloatVector sum2 = FloatVector.zero(F);
                FloatVector sum3 = FloatVector.zero(F);
                for (int i = 0; i < 32; i += L) {
                    IntVector packed = (IntVector) ByteVector.fromMemorySegment(B, w, p + 16 + 32 * j + i, LE)
                            .convertShape(VectorOperators.B2I, I, 0);
                    FloatVector lo = ((FloatVector) packed.and(0x0F).convert(VectorOperators.I2F, 0)).mul(scaleLo);
                    FloatVector hi = ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).mul(scaleHi);
                    int xi = xb + 64 * j + i;
                    sum0 = hi.fma(FloatVector.fromArray(F, v, xi + 32), lo.fma(FloatVector.fromArray(F, v, xi), sum0));
                    sum1 = hi.fma(FloatVector.fromArray(F, v, xi + n + 32), lo.fma(FloatVector.fromArray(F, v, xi + n), sum1));
                    sum2 = hi.fma(FloatVector.fromArray(F, v, xi + 2 * n + 32), lo.fma(FloatVector.fromArray(F, v, xi + 2 * n), sum2));
                    sum3 = hi.fma(FloatVector.fromArray(F, v, xi + 3 * n + 32), lo.fma(FloatVector.fromArray(F, v, xi + 3 * n), sum3));
                }
                acc0 = Math.fma((float) ((IntVector) sum0.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD), d0, acc0);
                acc1 = Math.fma((float) ((IntVector) sum1.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD), d1, acc1);
                acc2 = Math.fma((float) ((IntVector) sum2.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD), d2, acc2);
                acc3 = Math.fma((float) ((IntVector) sum3.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD), d3, acc3);
                int minLo = KScales.get(mins, 2 * j);
                int minHi = KScales.get(mins, 2 * j + 1);
                int k = g + 2 * j;
                min0 = Math.fma((float) (minLo * (sums[k] + sums[k + 8]) + minHi * (sums[k + 1] + sums[k + 9])), m0, min0);
                k += gn;
                min1 = Math.fma((float) (minLo * (sums[k] + sums[k + 8]) + minHi * (sums[k + 1] + sums[k + 9])), m1, min1);
                k += gn;
                min2 = Math.fma((float) (minLo * (sums[k] + sums[k + 8]) + minHi * (sums[k + 1] + sums[k + 9])), m2, min2);
                k += gn;
                min3 = Math.fma((float) (minLo * (sums[k] + sums[k + 8]) + minHi * (sums[k + 1] + sums[k + 9])), m3, min3);
            }
        }
        out[at] = acc0 - min0;
        out[at + stride] = acc1 - min1;
        out[at + 2 * stride] = acc2 - min2;
        out[at + 3 * stride] = acc3 - min3;
    }

    /** ggml_vec_dot_q4_K_q8_K (AVX2) for one row. */
    private static float vecDot(MemorySegment w, long row, Activations x, int col) {
        int blocks = x.cols / 256;
        float[] v = x.values;
        int[] sums = x.sums;
        int xo = col * x.cols;
        FloatVector acc = FloatVector.zero(H);
        float accM0 = 0;
        float accM1 = 0;
        float accM2 = 0;
        float accM3 = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            int a = w.get(INT, p + 4);
            int m = w.get(INT, p + 8);
            int c = w.get(INT, p + 12);
            long scales = KScales.scales(a, m, c);
            long mins = KScales.mins(a, m, c);
            int xb = xo + 256 * b;
            FloatVector sum = FloatVector.zero(H);
            for (int j = 0; j < 4; j++) {
                IntVector qs = IntVector.fromMemorySegment(HI, w, p + 16 + 32 * j, LE);
                for (int half = 0; half < 2; half++) {
                    int chunk = 2 * j + half;
                    FloatVector t = FloatVector.zero(H);
                    for (int k = 0; k < 4; k++) {
                        IntVector q = qs.lanewise(VectorOperators.LSHR, 8 * k + 4 * half).and(0x0F);
                        t = ((FloatVector) q.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(H, v, xb + 32 * chunk + 8 * k), t);
                    }
                    sum = t.fma(FloatVector.broadcast(H, (float) KScales.get(scales, chunk)), sum);
                }
            }
            int g = xb / 16;
            float dx = x.scales[col * blocks + b];
            float dmin = -dx * Float16s.toFloat(w.get(SHORT, p + 2));
            accM0 = Math.fma(dmin, (float) minPair(mins, sums, g, 0), accM0);
            accM1 = Math.fma(dmin, (float) minPair(mins, sums, g, 1), accM1);
            accM2 = Math.fma(dmin, (float) minPair(mins, sums, g, 2), accM2);
            accM3 = Math.fma(dmin, (float) minPair(mins, sums, g, 3), accM3);
            acc = sum.fma(FloatVector.broadcast(H, dx * Float16s.toFloat(w.get(SHORT, p))), acc);
        }
        return LaneSums.sum8(acc) + ((accM0 + accM2) + (accM1 + accM3));
    }

    /** Lane i of ggml's mins product: min_2i*xsum_2i + min_2i+1*xsum_2i+1, xsum_j the sum of sub-block j. */
    private static int minPair(long mins, int[] sums, int g, int i) {
        return KScales.get(mins, 2 * i) * (sums[g + 2 * i] + sums[g + 8 + 2 * i])
                + KScales.get(mins, 2 * i + 1) * (sums[g + 2 * i + 1] + sums[g + 9 + 2 * i]);
    }

    /** ggml_vec_dot_q4_K_q8_K (AVX2) for four input rows, decoding the row once. */
    private static void vecDot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        for (int k = 0; k < 4; k++) {
            out[at + k * stride] = vecDot(w, row, x, col + k);
        }
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        long p = row;
        for (int b = 0; b < cols / 256; b++, p += BLOCK_BYTES) {
            float d = Float16s.toFloat(w.get(SHORT, p));
            float dmin = Float16s.toFloat(w.get(SHORT, p + 2));
            int a = w.get(INT, p + 4);
            int m = w.get(INT, p + 8);
            int c = w.get(INT, p + 12);
            long scales = KScales.scales(a, m, c);
            long mins = KScales.mins(a, m, c);
            for (int j = 0; j < 4; j++) {
                float d1 = d * KScales.get(scales, 2 * j);
                float m1 = dmin * KScales.get(mins, 2 * j);
                float d2 = d * KScales.get(scales, 2 * j + 1);
                float m2 = dmin * KScales.get(mins, 2 * j + 1);
                int o = off + 256 * b + 64 * j;
                for (int i = 0; i < 32; i++) {
                    int packed = w.get(ValueLayout.JAVA_BYTE, p + 16 + 32 * j + i) & 0xFF;
                    out[o + i] = d1 * (packed & 0x0F) - m1;
                    out[o + 32 + i] = d2 * (packed >> 4) - m2;
                }
            }
        }
    }
}
