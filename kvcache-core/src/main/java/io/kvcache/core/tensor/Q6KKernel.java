package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.B;
import static io.kvcache.core.tensor.Lanes.F;
import static io.kvcache.core.tensor.Lanes.L;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q6_K weights times Q8_K activations, as ggml_vec_dot_q6_K_q8_K. A super-block of 256 values is
 * ql[128], qh[64], int8 scales[16] and fp16 d (at the end); each 16 values (sub-block s) share
 * scales[s]. Per half h (128 values) and i in 0..31, with ql = ql[64h..], qh = qh[32h..]:
 * value 128h+i uses the low nibble of ql[i] and bits 0-1 of qh[i]; 128h+32+i the low nibble of
 * ql[32+i] and bits 2-3; 128h+64+i the high nibble of ql[i] and bits 4-5; 128h+96+i the high
 * nibble of ql[32+i] and bits 6-7. value = d*scale*(q6 - 32).
 */
final class Q6KKernel implements Kernel {
    private static final int BLOCK_BYTES = 210;

    @Override
    public Activations.Format activations() {
        return Activations.Format.Q8_K;
    }

    /** The four 16-value groups of 6-bit quants (0..63) built from ql[i], ql[32+i] and qh[i]. */
    private static FloatVector q1(ByteVector qlA, ByteVector qh) {
        return toFloats(qlA.and((byte) 0x0F).or(qh.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)));
    }

    private static FloatVector q2(ByteVector qlB, ByteVector qh) {
        return toFloats(qlB.and((byte) 0x0F).or(qh.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)));
    }

    private static FloatVector q3(ByteVector qlA, ByteVector qh) {
        return toFloats(qlA.lanewise(VectorOperators.LSHR, 4).or(qh.and((byte) 0x30)));
    }

    private static FloatVector q4(ByteVector qlB, ByteVector qh) {
        return toFloats(qlB.lanewise(VectorOperators.LSHR, 4).or(qh.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)));
    }

    private static FloatVector toFloats(ByteVector q) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, F, 0);
    }

    /** sum_s scale_s * (sum of the activation quants of sub-block s): the -32 offset, applied once per super-block. */
    private static int offsetSum(MemorySegment w, long p, int[] sums, int g) {
        int total = 0;
        for (int s = 0; s < 16; s++) {
            total += w.get(ValueLayout.JAVA_BYTE, p + 192 + s) * sums[g + s];
        }
        return 32 * total;
    }

    private static float scale(MemorySegment w, long p, int s) {
        return w.get(ValueLayout.JAVA_BYTE, p + 192 + s);
    }

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int blocks = x.cols / 256;
        float[] v = x.values;
        int xo = col * x.cols;
        FloatVector acc = FloatVector.zero(F);
        float offsetAcc = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            float d = x.scales[col * blocks + b] * Float16s.toFloat(w.get(SHORT, p + 208));
            for (int h = 0; h < 2; h++) {
                // One chain per half keeps each lane's exact integer sum below 2^24 with 8 lanes too.
                FloatVector sumA = FloatVector.zero(F);
                FloatVector sumB = FloatVector.zero(F);
                int xh = xo + 256 * b + 128 * h;
                for (int i = 0; i < 32; i += L) {
                    ByteVector qlA = ByteVector.fromMemorySegment(B, w, p + 64 * h + i, LE);
                    ByteVector qlB = ByteVector.fromMemorySegment(B, w, p + 64 * h + 32 + i, LE);
                    ByteVector qh = ByteVector.fromMemorySegment(B, w, p + 128 + 32 * h + i, LE);
                    int s = 8 * h + i / 16;
                    sumA = q1(qlA, qh).mul(scale(w, p, s)).fma(FloatVector.fromArray(F, v, xh + i), sumA);
                    sumB = q2(qlB, qh).mul(scale(w, p, s + 2)).fma(FloatVector.fromArray(F, v, xh + 32 + i), sumB);
                    sumA = q3(qlA, qh).mul(scale(w, p, s + 4)).fma(FloatVector.fromArray(F, v, xh + 64 + i), sumA);
                    sumB = q4(qlB, qh).mul(scale(w, p, s + 6)).fma(FloatVector.fromArray(F, v, xh + 96 + i), sumB);
                }
                acc = sumA.add(sumB).fma(FloatVector.broadcast(F, d), acc);
            }
            offsetAcc += d * offsetSum(w, p, x.sums, (xo + 256 * b) / 16);
        }
        return acc.reduceLanes(VectorOperators.ADD) - offsetAcc;
    }

    /** The four scaled 16-value groups times the activations at xi, xi+32, xi+64, xi+96. */
    private static FloatVector groups(FloatVector w1, FloatVector w2, FloatVector w3, FloatVector w4, float[] v, int xi) {
        FloatVector t = w1.mul(FloatVector.fromArray(F, v, xi));
        t = w2.fma(FloatVector.fromArray(F, v, xi + 32), t);
        t = w3.fma(FloatVector.fromArray(F, v, xi + 64), t);
        return w4.fma(FloatVector.fromArray(F, v, xi + 96), t);
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        int blocks = n / 256;
        float[] v = x.values;
        float[] xs = x.scales;
        int x0 = col * n;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        float off0 = 0;
        float off1 = 0;
        float off2 = 0;
        float off3 = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            float d = Float16s.toFloat(w.get(SHORT, p + 208));
            int sb = col * blocks + b;
            float d0 = xs[sb] * d;
            float d1 = xs[sb + blocks] * d;
            float d2 = xs[sb + 2 * blocks] * d;
            float d3 = xs[sb + 3 * blocks] * d;
            for (int h = 0; h < 2; h++) {
                FloatVector sum0 = FloatVector.zero(F);
                FloatVector sum1 = FloatVector.zero(F);
                FloatVector sum2 = FloatVector.zero(F);
                FloatVector sum3 = FloatVector.zero(F);
                int xh = x0 + 256 * b + 128 * h;
                for (int i = 0; i < 32; i += L) {
                    ByteVector qlA = ByteVector.fromMemorySegment(B, w, p + 64 * h + i, LE);
                    ByteVector qlB = ByteVector.fromMemorySegment(B, w, p + 64 * h + 32 + i, LE);
                    ByteVector qh = ByteVector.fromMemorySegment(B, w, p + 128 + 32 * h + i, LE);
                    int s = 8 * h + i / 16;
                    FloatVector w1 = q1(qlA, qh).mul(scale(w, p, s));
                    FloatVector w2 = q2(qlB, qh).mul(scale(w, p, s + 2));
                    FloatVector w3 = q3(qlA, qh).mul(scale(w, p, s + 4));
                    FloatVector w4 = q4(qlB, qh).mul(scale(w, p, s + 6));
                    int xi = xh + i;
                    sum0 = sum0.add(groups(w1, w2, w3, w4, v, xi));
                    sum1 = sum1.add(groups(w1, w2, w3, w4, v, xi + n));
                    sum2 = sum2.add(groups(w1, w2, w3, w4, v, xi + 2 * n));
                    sum3 = sum3.add(groups(w1, w2, w3, w4, v, xi + 3 * n));
                }
                acc0 = sum0.fma(FloatVector.broadcast(F, d0), acc0);
                acc1 = sum1.fma(FloatVector.broadcast(F, d1), acc1);
                acc2 = sum2.fma(FloatVector.broadcast(F, d2), acc2);
                acc3 = sum3.fma(FloatVector.broadcast(F, d3), acc3);
            }
            int g = (x0 + 256 * b) / 16;
            off0 += d0 * offsetSum(w, p, x.sums, g);
            off1 += d1 * offsetSum(w, p, x.sums, g + n / 16);
            off2 += d2 * offsetSum(w, p, x.sums, g + 2 * n / 16);
            off3 += d3 * offsetSum(w, p, x.sums, g + 3 * n / 16);
        }
        out[at] = acc0.reduceLanes(VectorOperators.ADD) - off0;
        out[at + stride] = acc1.reduceLanes(VectorOperators.ADD) - off1;
        out[at + 2 * stride] = acc2.reduceLanes(VectorOperators.ADD) - off2;
        out[at + 3 * stride] = acc3.reduceLanes(VectorOperators.ADD) - off3;
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        long p = row;
        for (int b = 0; b < cols / 256; b++, p += BLOCK_BYTES) {
            float d = Float16s.toFloat(w.get(SHORT, p + 208));
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < 32; i++) {
                    int qlA = w.get(ValueLayout.JAVA_BYTE, p + 64 * h + i) & 0xFF;
                    int qlB = w.get(ValueLayout.JAVA_BYTE, p + 64 * h + 32 + i) & 0xFF;
                    int qh = w.get(ValueLayout.JAVA_BYTE, p + 128 + 32 * h + i) & 0xFF;
                    int o = off + 256 * b + 128 * h + i;
                    int s = 8 * h + i / 16;
                    out[o] = d * scale(w, p, s) * ((qlA & 0xF | (qh & 3) << 4) - 32);
                    out[o + 32] = d * scale(w, p, s + 2) * ((qlB & 0xF | (qh >> 2 & 3) << 4) - 32);
                    out[o + 64] = d * scale(w, p, s + 4) * ((qlA >> 4 | (qh >> 4 & 3) << 4) - 32);
                    out[o + 96] = d * scale(w, p, s + 6) * ((qlB >> 4 | (qh >> 6) << 4) - 32);
                }
            }
        }
    }
}
