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
import static io.kvcache.core.tensor.Lanes.LONG;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q6_K weights times Q8_K activations, as ggml_vec_dot_q6_K_q8_K. A super-block of 256 values is
 * ql[128], qh[64], int8 scales[16] and fp16 d (at the end); each 16 values (sub-block s) share
 * scales[s]. Per half h (128 values) and i in 0..31, with ql = ql[64h..], qh = qh[32h..]:
 * value 128h+i uses the low nibble of ql[i] and bits 0-1 of qh[i]; 128h+32+i the low nibble of
 * ql[32+i] and bits 2-3; 128h+64+i the high nibble of ql[i] and bits 4-5; 128h+96+i the high
 * nibble of ql[32+i] and bits 6-7. value = d*scale*(q6 - 32).
 *
 * <p>Lanes accumulate scale*q6*q_x exactly (one half at a time keeps them below 2^24 with 8 lanes
 * too); the -32 is applied once per super-block as 32*sum_s scale_s*xsum_s. The decoding is written
 * out in each loop: C2 does not reliably inline helpers that return vectors.
 */
final class Q6KKernel implements Kernel {
    private static final int BLOCK_BYTES = 210;

    @Override
    public Activations.Format activations() {
        return Activations.Format.Q8_K;
    }

    /** Sub-block {@code s} (0..7) of the 8 int8 scales packed in {@code scales}. */
    private static int scale(long scales, int s) {
        return (byte) (scales >>> (8 * s));
    }

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int blocks = x.cols / 256;
        float[] v = x.values;
        int[] sums = x.sums;
        int xo = col * x.cols;
        FloatVector acc = FloatVector.zero(F);
        float offsetAcc = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            float d = x.scales[col * blocks + b] * Float16s.toFloat(w.get(SHORT, p + 208));
            long scalesLow = w.get(LONG, p + 192);
            long scalesHigh = w.get(LONG, p + 200);
            for (int h = 0; h < 2; h++) {
                long scales = h == 0 ? scalesLow : scalesHigh;
                FloatVector sumA = FloatVector.zero(F);
                FloatVector sumB = FloatVector.zero(F);
                int xh = xo + 256 * b + 128 * h;
                for (int i = 0; i < 32; i += L) {
                    ByteVector qlA = ByteVector.fromMemorySegment(B, w, p + 64 * h + i, LE);
                    ByteVector qlB = ByteVector.fromMemorySegment(B, w, p + 64 * h + 32 + i, LE);
                    ByteVector qh = ByteVector.fromMemorySegment(B, w, p + 128 + 32 * h + i, LE);
                    int s = i / 16;
                    FloatVector q1 = (FloatVector) qlA.and((byte) 0x0F)
                            .or(qh.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30))
                            .convertShape(VectorOperators.B2F, F, 0);
                    FloatVector q2 = (FloatVector) qlB.and((byte) 0x0F)
                            .or(qh.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30))
                            .convertShape(VectorOperators.B2F, F, 0);
                    FloatVector q3 = (FloatVector) qlA.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.and((byte) 0x30))
                            .convertShape(VectorOperators.B2F, F, 0);
                    FloatVector q4 = (FloatVector) qlB.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30))
                            .convertShape(VectorOperators.B2F, F, 0);
                    sumA = q1.mul(scale(scales, s)).fma(FloatVector.fromArray(F, v, xh + i), sumA);
                    sumB = q2.mul(scale(scales, s + 2)).fma(FloatVector.fromArray(F, v, xh + 32 + i), sumB);
                    sumA = q3.mul(scale(scales, s + 4)).fma(FloatVector.fromArray(F, v, xh + 64 + i), sumA);
                    sumB = q4.mul(scale(scales, s + 6)).fma(FloatVector.fromArray(F, v, xh + 96 + i), sumB);
                }
                acc = sumA.add(sumB).fma(FloatVector.broadcast(F, d), acc);
            }
            int g = (xo + 256 * b) / 16;
            int offset = 0;
            for (int s = 0; s < 8; s++) {
                // Written out: C2 may leave scale() out of line here, and every call spills the vector registers.
                offset += (byte) (scalesLow >>> (8 * s)) * sums[g + s] + (byte) (scalesHigh >>> (8 * s)) * sums[g + 8 + s];
            }
            offsetAcc += d * (32 * offset);
        }
        return LaneSums.sum(acc) - offsetAcc;
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
            long scalesLow = w.get(LONG, p + 192);
            long scalesHigh = w.get(LONG, p + 200);
            for (int h = 0; h < 2; h++) {
                long scales = h == 0 ? scalesLow : scalesHigh;
                FloatVector sum0 = FloatVector.zero(F);
                FloatVector sum1 = FloatVector.zero(F);
                FloatVector sum2 = FloatVector.zero(F);
                FloatVector sum3 = FloatVector.zero(F);
                int xh = x0 + 256 * b + 128 * h;
                for (int i = 0; i < 32; i += L) {
                    ByteVector qlA = ByteVector.fromMemorySegment(B, w, p + 64 * h + i, LE);
                    ByteVector qlB = ByteVector.fromMemorySegment(B, w, p + 64 * h + 32 + i, LE);
                    ByteVector qh = ByteVector.fromMemorySegment(B, w, p + 128 + 32 * h + i, LE);
                    int s = i / 16;
                    FloatVector w1 = ((FloatVector) qlA.and((byte) 0x0F)
                            .or(qh.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30))
                            .convertShape(VectorOperators.B2F, F, 0)).mul(scale(scales, s));
                    FloatVector w2 = ((FloatVector) qlB.and((byte) 0x0F)
                            .or(qh.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30))
                            .convertShape(VectorOperators.B2F, F, 0)).mul(scale(scales, s + 2));
                    FloatVector w3 = ((FloatVector) qlA.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.and((byte) 0x30))
                            .convertShape(VectorOperators.B2F, F, 0)).mul(scale(scales, s + 4));
                    FloatVector w4 = ((FloatVector) qlB.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30))
                            .convertShape(VectorOperators.B2F, F, 0)).mul(scale(scales, s + 6));
                    int xi = xh + i;
                    sum0 = w4.fma(FloatVector.fromArray(F, v, xi + 96), w3.fma(FloatVector.fromArray(F, v, xi + 64),
                            w2.fma(FloatVector.fromArray(F, v, xi + 32), w1.fma(FloatVector.fromArray(F, v, xi), sum0))));
                    xi += n;
                    sum1 = w4.fma(FloatVector.fromArray(F, v, xi + 96), w3.fma(FloatVector.fromArray(F, v, xi + 64),
                            w2.fma(FloatVector.fromArray(F, v, xi + 32), w1.fma(FloatVector.fromArray(F, v, xi), sum1))));
                    xi += n;
                    sum2 = w4.fma(FloatVector.fromArray(F, v, xi + 96), w3.fma(FloatVector.fromArray(F, v, xi + 64),
                            w2.fma(FloatVector.fromArray(F, v, xi + 32), w1.fma(FloatVector.fromArray(F, v, xi), sum2))));
                    xi += n;
                    sum3 = w4.fma(FloatVector.fromArray(F, v, xi + 96), w3.fma(FloatVector.fromArray(F, v, xi + 64),
                            w2.fma(FloatVector.fromArray(F, v, xi + 32), w1.fma(FloatVector.fromArray(F, v, xi), sum3))));
                }
                acc0 = sum0.fma(FloatVector.broadcast(F, d0), acc0);
                acc1 = sum1.fma(FloatVector.broadcast(F, d1), acc1);
                acc2 = sum2.fma(FloatVector.broadcast(F, d2), acc2);
                acc3 = sum3.fma(FloatVector.broadcast(F, d3), acc3);
            }
            int g = (x0 + 256 * b) / 16;
            int gn = n / 16;
            int o0 = 0;
            int o1 = 0;
            int o2 = 0;
            int o3 = 0;
            for (int s = 0; s < 16; s++) {
                int sc = (byte) ((s < 8 ? scalesLow : scalesHigh) >>> (8 * (s & 7)));
                o0 += sc * sums[g + s];
                o1 += sc * sums[g + gn + s];
                o2 += sc * sums[g + 2 * gn + s];
                o3 += sc * sums[g + 3 * gn + s];
            }
            off0 += d0 * (32 * o0);
            off1 += d1 * (32 * o1);
            off2 += d2 * (32 * o2);
            off3 += d3 * (32 * o3);
        }
        out[at] = LaneSums.sum(acc0) - off0;
        out[at + stride] = LaneSums.sum(acc1) - off1;
        out[at + 2 * stride] = LaneSums.sum(acc2) - off2;
        out[at + 3 * stride] = LaneSums.sum(acc3) - off3;
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        long p = row;
        for (int b = 0; b < cols / 256; b++, p += BLOCK_BYTES) {
            float d = Float16s.toFloat(w.get(SHORT, p + 208));
            for (int h = 0; h < 2; h++) {
                long scales = w.get(LONG, p + 192 + 8 * h);
                for (int i = 0; i < 32; i++) {
                    int qlA = w.get(ValueLayout.JAVA_BYTE, p + 64 * h + i) & 0xFF;
                    int qlB = w.get(ValueLayout.JAVA_BYTE, p + 64 * h + 32 + i) & 0xFF;
                    int qh = w.get(ValueLayout.JAVA_BYTE, p + 128 + 32 * h + i) & 0xFF;
                    int o = off + 256 * b + 128 * h + i;
                    int s = i / 16;
                    out[o] = d * scale(scales, s) * ((qlA & 0xF | (qh & 3) << 4) - 32);
                    out[o + 32] = d * scale(scales, s + 2) * ((qlB & 0xF | (qh >> 2 & 3) << 4) - 32);
                    out[o + 64] = d * scale(scales, s + 4) * ((qlA >> 4 | (qh >> 4 & 3) << 4) - 32);
                    out[o + 96] = d * scale(scales, s + 6) * ((qlB >> 4 | (qh >> 6) << 4) - 32);
                }
            }
        }
    }
}
