package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.B;
import static io.kvcache.core.tensor.Lanes.F;
import static io.kvcache.core.tensor.Lanes.I;
import static io.kvcache.core.tensor.Lanes.INT;
import static io.kvcache.core.tensor.Lanes.L;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q5_K weights times Q8_K activations, as ggml_vec_dot_q5_K_q8_K. A super-block of 256 values is
 * fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins ({@link KScales}), qh[32] and qs[128]. The
 * low 4 bits come from qs as in Q4_K (32 bytes per 64 values, low nibbles for sub-block 2j, high
 * nibbles for 2j+1); the fifth bit of value i (0..31) of sub-block s is bit s of qh[i];
 * value = d*scale*q - dmin*min. The dot is d_x*(d*sum_j scale_j*isum_j - dmin*sum_j min_j*xsum_j)
 * with isum_j the integer dot of sub-block j and xsum_j the sum of its activation quants.
 * Lanes accumulate scale*q*q_x exactly (below 2^24). The decoding is written out in each loop:
 * C2 does not reliably inline helpers that return vectors, and a vector crossing a call is boxed.
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
        FloatVector acc = FloatVector.zero(F);
        float minAcc = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            int a = w.get(INT, p + 4);
            int m = w.get(INT, p + 8);
            int c = w.get(INT, p + 12);
            long scales = KScales.scales(a, m, c);
            long mins = KScales.mins(a, m, c);
            FloatVector sumLo = FloatVector.zero(F);
            FloatVector sumHi = FloatVector.zero(F);
            for (int j = 0; j < 4; j++) {
                float scaleLo = KScales.get(scales, 2 * j);
                float scaleHi = KScales.get(scales, 2 * j + 1);
                int xj = xo + 256 * b + 64 * j;
                for (int i = 0; i < 32; i += L) {
                    // Bits split on int lanes: x86 has no byte shifts, so byte lanes would be widened anyway.
                    IntVector packed = (IntVector) ByteVector.fromMemorySegment(B, w, p + 48 + 32 * j + i, LE)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector qh = ((IntVector) ByteVector.fromMemorySegment(B, w, p + 16 + i, LE)
                            .convertShape(VectorOperators.B2I, I, 0)).lanewise(VectorOperators.LSHR, 2 * j);
                    FloatVector lo = (FloatVector) packed.and(0x0F)
                            .or(qh.and(1).lanewise(VectorOperators.LSHL, 4))
                            .convert(VectorOperators.I2F, 0);
                    FloatVector hi = (FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and(0x0F)
                            .or(qh.and(2).lanewise(VectorOperators.LSHL, 3))
                            .convert(VectorOperators.I2F, 0);
                    sumLo = lo.mul(scaleLo).fma(FloatVector.fromArray(F, v, xj + i), sumLo);
                    sumHi = hi.mul(scaleHi).fma(FloatVector.fromArray(F, v, xj + 32 + i), sumHi);
                }
            }
            int g = (xo + 256 * b) / 16;
            int minSum = 0;
            for (int j = 0; j < 8; j++) {
                minSum += KScales.get(mins, j) * (sums[g + 2 * j] + sums[g + 2 * j + 1]);
            }
            float dx = x.scales[col * blocks + b];
            acc = sumLo.add(sumHi).fma(FloatVector.broadcast(F, dx * Float16s.toFloat(w.get(SHORT, p))), acc);
            minAcc += dx * Float16s.toFloat(w.get(SHORT, p + 2)) * minSum;
        }
        return LaneSums.sum(acc) - minAcc;
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        int blocks = n / 256;
        float[] v = x.values;
        float[] xs = x.scales;
        int[] sums = x.sums;
        int x0 = col * n;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
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
            FloatVector sum0 = FloatVector.zero(F);
            FloatVector sum1 = FloatVector.zero(F);
            FloatVector sum2 = FloatVector.zero(F);
            FloatVector sum3 = FloatVector.zero(F);
            for (int j = 0; j < 4; j++) {
                float scaleLo = KScales.get(scales, 2 * j);
                float scaleHi = KScales.get(scales, 2 * j + 1);
                int xj = x0 + 256 * b + 64 * j;
                for (int i = 0; i < 32; i += L) {
                    // Byte lanes measured faster than int lanes here, where each decoded vector serves 4 inputs.
                    ByteVector packed = ByteVector.fromMemorySegment(B, w, p + 48 + 32 * j + i, LE);
                    ByteVector qh = ByteVector.fromMemorySegment(B, w, p + 16 + i, LE).lanewise(VectorOperators.LSHR, 2 * j);
                    FloatVector lo = ((FloatVector) packed.and((byte) 0x0F)
                            .or(qh.and((byte) 1).lanewise(VectorOperators.LSHL, 4))
                            .convertShape(VectorOperators.B2F, F, 0)).mul(scaleLo);
                    FloatVector hi = ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.and((byte) 2).lanewise(VectorOperators.LSHL, 3))
                            .convertShape(VectorOperators.B2F, F, 0)).mul(scaleHi);
                    int xi = xj + i;
                    sum0 = hi.fma(FloatVector.fromArray(F, v, xi + 32), lo.fma(FloatVector.fromArray(F, v, xi), sum0));
                    sum1 = hi.fma(FloatVector.fromArray(F, v, xi + n + 32), lo.fma(FloatVector.fromArray(F, v, xi + n), sum1));
                    sum2 = hi.fma(FloatVector.fromArray(F, v, xi + 2 * n + 32), lo.fma(FloatVector.fromArray(F, v, xi + 2 * n), sum2));
                    sum3 = hi.fma(FloatVector.fromArray(F, v, xi + 3 * n + 32), lo.fma(FloatVector.fromArray(F, v, xi + 3 * n), sum3));
                }
            }
            int g = (x0 + 256 * b) / 16;
            int gn = n / 16;
            int ms0 = 0;
            int ms1 = 0;
            int ms2 = 0;
            int ms3 = 0;
            for (int j = 0; j < 8; j++) {
                int mj = KScales.get(mins, j);
                int k = g + 2 * j;
                ms0 += mj * (sums[k] + sums[k + 1]);
                ms1 += mj * (sums[k + gn] + sums[k + gn + 1]);
                ms2 += mj * (sums[k + 2 * gn] + sums[k + 2 * gn + 1]);
                ms3 += mj * (sums[k + 3 * gn] + sums[k + 3 * gn + 1]);
            }
            float d = Float16s.toFloat(w.get(SHORT, p));
            float dmin = Float16s.toFloat(w.get(SHORT, p + 2));
            int s = col * blocks + b;
            acc0 = sum0.fma(FloatVector.broadcast(F, xs[s] * d), acc0);
            acc1 = sum1.fma(FloatVector.broadcast(F, xs[s + blocks] * d), acc1);
            acc2 = sum2.fma(FloatVector.broadcast(F, xs[s + 2 * blocks] * d), acc2);
            acc3 = sum3.fma(FloatVector.broadcast(F, xs[s + 3 * blocks] * d), acc3);
            min0 += xs[s] * dmin * ms0;
            min1 += xs[s + blocks] * dmin * ms1;
            min2 += xs[s + 2 * blocks] * dmin * ms2;
            min3 += xs[s + 3 * blocks] * dmin * ms3;
        }
        out[at] = LaneSums.sum(acc0) - min0;
        out[at + stride] = LaneSums.sum(acc1) - min1;
        out[at + 2 * stride] = LaneSums.sum(acc2) - min2;
        out[at + 3 * stride] = LaneSums.sum(acc3) - min3;
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
