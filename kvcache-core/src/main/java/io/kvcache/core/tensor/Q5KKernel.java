package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.H;
import static io.kvcache.core.tensor.Lanes.HI;
import static io.kvcache.core.tensor.Lanes.INT;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q5_K weights times Q8_K activations, as ggml_vec_dot_q5_K_q8_K sums them on x86 (its AVX2 code,
 * which AVX-512 builds use too; llama.cpp neither repacks Q5_K on x86 nor hands it to llamafile's
 * GEMM, so batches are summed the same way). A super-block of 256 values is fp16 d, fp16 dmin, 12
 * bytes of 6-bit scales and mins ({@link KScales}), qh[32] and qs[128]. The low 4 bits come from
 * qs as in Q4_K (32 bytes per 64 values, low nibbles for sub-block 2j, high nibbles for 2j+1); the
 * fifth bit of value i (0..31) of sub-block s is bit s of qh[i]; value = d*scale*q - dmin*min.
 *
 * <p>ggml's order: per super-block, 8 integer lanes where lane t collects scale*q*q_x of the
 * values 4t..4t+3 of every 32; the lanes go to float and are accumulated across super-blocks with
 * one fused multiply-add by d_x*d each. The mins term is a scalar: per super-block the integer
 * sum_j min_j*(bsum[2j]+bsum[2j+1]) goes into it with one fused multiply-add by -d_x*dmin. The
 * result is hsum_float_8 of the lanes plus that scalar. The lanes are built as in
 * {@link Q6KKernel}: activations in {@link Activations#Q8_0_ORDER}, weight member k of group t as
 * byte k of int t; every partial sum is an integer below 2^24 (at most 32 * 63 * 31 * 127), so
 * exact in float. The decoding is written out in each loop: a vector that crosses a call is boxed.
 */
final class Q5KKernel implements Kernel {
    private static final int BLOCK_BYTES = 176;

    @Override
    public Activations.Format activations() {
        return Activations.Format.Q8_K;
    }

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int blocks = x.cols / 256;
        float[] v = x.values;
        int[] sums = x.sums;
        int xo = col * x.cols;
        FloatVector acc = FloatVector.zero(H);
        float summs = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            int a = w.get(INT, p + 4);
            int m = w.get(INT, p + 8);
            int c = w.get(INT, p + 12);
            long scales = KScales.scales(a, m, c);
            long mins = KScales.mins(a, m, c);
            IntVector qh = IntVector.fromMemorySegment(HI, w, p + 16, LE);
            int xb = xo + 256 * b;
            FloatVector sum = FloatVector.zero(H);
            for (int j = 0; j < 4; j++) {
                IntVector qs = IntVector.fromMemorySegment(HI, w, p + 48 + 32 * j, LE);
                for (int half = 0; half < 2; half++) {
                    int chunk = 2 * j + half;
                    FloatVector t = FloatVector.zero(H);
                    for (int k = 0; k < 4; k++) {
                        // Bit 8k+chunk of qh rotated to bit 4 (the count wraps when it would be negative).
                        IntVector q = qs.lanewise(VectorOperators.LSHR, 8 * k + 4 * half).and(0x0F)
                                .or(qh.lanewise(VectorOperators.ROR, (8 * k + chunk - 4) & 31).and(0x10));
                        t = ((FloatVector) q.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(H, v, xb + 32 * chunk + 8 * k), t);
                    }
                    sum = t.fma(FloatVector.broadcast(H, (float) KScales.get(scales, chunk)), sum);
                }
            }
            int g = xb / 16;
            int minSum = 0;
            for (int j = 0; j < 8; j++) {
                minSum += KScales.get(mins, j) * (sums[g + j] + sums[g + 8 + j]);
            }
            float dx = x.scales[col * blocks + b];
            acc = sum.fma(FloatVector.broadcast(H, dx * Float16s.toFloat(w.get(SHORT, p))), acc);
            summs = Math.fma(-dx * Float16s.toFloat(w.get(SHORT, p + 2)), (float) minSum, summs);
        }
        return LaneSums.sum8(acc) + summs;
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        int blocks = n / 256;
        float[] v = x.values;
        float[] xs = x.scales;
        int[] sums = x.sums;
        int x0 = col * n;
        FloatVector acc0 = FloatVector.zero(H);
        FloatVector acc1 = FloatVector.zero(H);
        FloatVector acc2 = FloatVector.zero(H);
        FloatVector acc3 = FloatVector.zero(H);
        float summs0 = 0;
        float summs1 = 0;
        float summs2 = 0;
        float summs3 = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            int a = w.get(INT, p + 4);
            int m = w.get(INT, p + 8);
            int c = w.get(INT, p + 12);
            long scales = KScales.scales(a, m, c);
            long mins = KScales.mins(a, m, c);
            IntVector qh = IntVector.fromMemorySegment(HI, w, p + 16, LE);
            int xb = x0 + 256 * b;
            FloatVector sum0 = FloatVector.zero(H);
            FloatVector sum1 = FloatVector.zero(H);
            FloatVector sum2 = FloatVector.zero(H);
            FloatVector sum3 = FloatVector.zero(H);
            for (int j = 0; j < 4; j++) {
                IntVector qs = IntVector.fromMemorySegment(HI, w, p + 48 + 32 * j, LE);
                for (int half = 0; half < 2; half++) {
                    int chunk = 2 * j + half;
                    FloatVector t0 = FloatVector.zero(H);
                    FloatVector t1 = FloatVector.zero(H);
                    FloatVector t2 = FloatVector.zero(H);
                    FloatVector t3 = FloatVector.zero(H);
                    for (int k = 0; k < 4; k++) {
                        FloatVector q = (FloatVector) qs.lanewise(VectorOperators.LSHR, 8 * k + 4 * half).and(0x0F)
                                .or(qh.lanewise(VectorOperators.ROR, (8 * k + chunk - 4) & 31).and(0x10))
                                .convert(VectorOperators.I2F, 0);
                        int xi = xb + 32 * chunk + 8 * k;
                        t0 = q.fma(FloatVector.fromArray(H, v, xi), t0);
                        t1 = q.fma(FloatVector.fromArray(H, v, xi + n), t1);
                        t2 = q.fma(FloatVector.fromArray(H, v, xi + 2 * n), t2);
                        t3 = q.fma(FloatVector.fromArray(H, v, xi + 3 * n), t3);
                    }
                    FloatVector scale = FloatVector.broadcast(H, (float) KScales.get(scales, chunk));
                    sum0 = t0.fma(scale, sum0);
                    sum1 = t1.fma(scale, sum1);
                    sum2 = t2.fma(scale, sum2);
                    sum3 = t3.fma(scale, sum3);
                }
            }
            int g = xb / 16;
            int gn = n / 16;
            int ms0 = 0;
            int ms1 = 0;
            int ms2 = 0;
            int ms3 = 0;
            for (int j = 0; j < 8; j++) {
                int mj = KScales.get(mins, j);
                int k = g + j;
                ms0 += mj * (sums[k] + sums[k + 8]);
                ms1 += mj * (sums[k + gn] + sums[k + gn + 8]);
                ms2 += mj * (sums[k + 2 * gn] + sums[k + 2 * gn + 8]);
                ms3 += mj * (sums[k + 3 * gn] + sums[k + 3 * gn + 8]);
            }
            float d = Float16s.toFloat(w.get(SHORT, p));
            float dmin = Float16s.toFloat(w.get(SHORT, p + 2));
            int s = col * blocks + b;
            acc0 = sum0.fma(FloatVector.broadcast(H, xs[s] * d), acc0);
            acc1 = sum1.fma(FloatVector.broadcast(H, xs[s + blocks] * d), acc1);
            acc2 = sum2.fma(FloatVector.broadcast(H, xs[s + 2 * blocks] * d), acc2);
            acc3 = sum3.fma(FloatVector.broadcast(H, xs[s + 3 * blocks] * d), acc3);
            summs0 = Math.fma(-xs[s] * dmin, (float) ms0, summs0);
            summs1 = Math.fma(-xs[s + blocks] * dmin, (float) ms1, summs1);
            summs2 = Math.fma(-xs[s + 2 * blocks] * dmin, (float) ms2, summs2);
            summs3 = Math.fma(-xs[s + 3 * blocks] * dmin, (float) ms3, summs3);
        }
        // hsum_float_8 of each accumulator, written out here: passed to a method the vectors were boxed.
        acc0 = acc0.add(acc0.rearrange(LaneSums.S256_4));
        acc1 = acc1.add(acc1.rearrange(LaneSums.S256_4));
        acc2 = acc2.add(acc2.rearrange(LaneSums.S256_4));
        acc3 = acc3.add(acc3.rearrange(LaneSums.S256_4));
        acc0 = acc0.add(acc0.rearrange(LaneSums.S256_2));
        acc1 = acc1.add(acc1.rearrange(LaneSums.S256_2));
        acc2 = acc2.add(acc2.rearrange(LaneSums.S256_2));
        acc3 = acc3.add(acc3.rearrange(LaneSums.S256_2));
        out[at] = acc0.add(acc0.rearrange(LaneSums.S256_1)).lane(0) + summs0;
        out[at + stride] = acc1.add(acc1.rearrange(LaneSums.S256_1)).lane(0) + summs1;
        out[at + 2 * stride] = acc2.add(acc2.rearrange(LaneSums.S256_1)).lane(0) + summs2;
        out[at + 3 * stride] = acc3.add(acc3.rearrange(LaneSums.S256_1)).lane(0) + summs3;
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
                    int packed = w.get(ValueLayout.JAVA_BYTE, p + 48 + 32 * j + i) & 0xFF;
                    int qh = w.get(ValueLayout.JAVA_BYTE, p + 16 + i) & 0xFF;
                    out[o + i] = d1 * ((packed & 0x0F) | ((qh >> (2 * j)) & 1) << 4) - m1;
                    out[o + 32 + i] = d2 * ((packed >> 4) | ((qh >> (2 * j + 1)) & 1) << 4) - m2;
                }
            }
        }
    }
}
