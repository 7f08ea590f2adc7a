package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.H;
import static io.kvcache.core.tensor.Lanes.HI;
import static io.kvcache.core.tensor.Lanes.HS;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.LONG;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q6_K weights times Q8_K activations, as ggml_vec_dot_q6_K_q8_K sums them on x86 (its AVX2 code,
 * which AVX-512 builds use too; llama.cpp neither repacks Q6_K on x86 nor hands it to llamafile's
 * GEMM, so batches are summed the same way). A super-block of 256 values is ql[128], qh[64], int8
 * scales[16] and fp16 d (at the end); each 16 values (sub-block s) share scales[s]. Per half h
 * (128 values) and i in 0..31, with ql = ql[64h..], qh = qh[32h..]: value 128h+i uses the low
 * nibble of ql[i] and bits 0-1 of qh[i]; 128h+32+i the low nibble of ql[32+i] and bits 2-3;
 * 128h+64+i the high nibble of ql[i] and bits 4-5; 128h+96+i the high nibble of ql[32+i] and
 * bits 6-7. value = d*scale*(q6 - 32).
 *
 * <p>ggml's order: per super-block, 8 integer lanes where lane t collects scale*q6*q_x of the
 * values 4t..4t+3 of every 32 (q6 unsigned, 0..63), minus 32*(scale[2t]*bsum[2t] +
 * scale[2t+1]*bsum[2t+1]) (the offset taken through the sums of 16 activation quants); the lanes go
 * to float and are accumulated across super-blocks with one fused multiply-add by d_x*d each, and
 * are added at the end as hsum_float_8 adds them. The activations hold each 32 quants in
 * {@link Activations#Q8_0_ORDER} (slice k of 8 = member k of each group of 4), and 32 weight bytes
 * read as 8 ints give member k of group t as byte k of int t, so fused multiply-adds of slices
 * build exactly those lanes: every partial sum is an integer, exact in float while below 2^24 (a
 * lane would need 32 products near the 63*128*127 extreme, all of one sign, to pass it), and the
 * offset is a multiple of 32 of an integer below 2^21, so the one subtraction rounds as ggml's
 * conversion of the integer lane does. The decoding is written out in each loop: a vector that
 * crosses a call is boxed.
 */
final class Q6KKernel implements Kernel {
    private static final int BLOCK_BYTES = 210;
    /** Lanes 4..7: groups 4..7 of a 32-value chunk, which lie in its second sub-block of 16. */
    private static final VectorMask<Float> SECOND_SUB_BLOCK = VectorMask.fromLong(H, 0xF0);

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
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            FloatVector sum = FloatVector.zero(H);
            for (int h = 0; h < 2; h++) {
                IntVector qh = IntVector.fromMemorySegment(HI, w, p + 128 + 32 * h, LE);
                long scales = w.get(LONG, p + 192 + 8 * h);
                int xh = xo + 256 * b + 128 * h;
                for (int j = 0; j < 4; j++) {
                    // Chunks 0 and 2 of the half read ql[0..31], chunks 1 and 3 ql[32..63] (loaded
                    // again rather than chosen between two vectors: a vector phi may be boxed).
                    IntVector ql = IntVector.fromMemorySegment(HI, w, p + 64 * h + 32 * (j & 1), LE);
                    int nibble = 4 * (j >> 1);
                    FloatVector scale = FloatVector.broadcast(H, (byte) (scales >>> (16 * j)))
                            .blend((byte) (scales >>> (16 * j + 8)), SECOND_SUB_BLOCK);
                    for (int k = 0; k < 4; k++) {
                        // Bits 8k+2j, 8k+2j+1 of qh rotated to bits 4-5 (the count wraps for k = 0).
                        IntVector q = ql.lanewise(VectorOperators.LSHR, 8 * k + nibble).and(0x0F)
                                .or(qh.lanewise(VectorOperators.ROR, (8 * k + 2 * j - 4) & 31).and(0x30));
                        FloatVector wq = ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(scale);
                        sum = wq.fma(FloatVector.fromArray(H, v, xh + 32 * j + 8 * k), sum);
                    }
                }
            }
            // Lane t: 32 * (scale[2t] * bsum[2t] + scale[2t+1] * bsum[2t+1]); the 16 scales read as 8
            // shorts give scale[2t] in the low and scale[2t+1] in the high byte of short t.
            IntVector pairs = (IntVector) ShortVector.fromMemorySegment(HS, w, p + 192, LE).convertShape(VectorOperators.S2I, HI, 0);
            int g = (xo + 256 * b) / 16;
            IntVector offset = pairs.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).mul(IntVector.fromArray(HI, sums, g))
                    .add(pairs.lanewise(VectorOperators.ASHR, 8).mul(IntVector.fromArray(HI, sums, g + 8)))
                    .lanewise(VectorOperators.LSHL, 5);
            sum = sum.sub((FloatVector) offset.convert(VectorOperators.I2F, 0));
            float d = x.scales[col * blocks + b] * Float16s.toFloat(w.get(SHORT, p + 208));
            acc = sum.fma(FloatVector.broadcast(H, d), acc);
        }
        return LaneSums.sum8(acc);
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
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            FloatVector sum0 = FloatVector.zero(H);
            FloatVector sum1 = FloatVector.zero(H);
            FloatVector sum2 = FloatVector.zero(H);
            FloatVector sum3 = FloatVector.zero(H);
            for (int h = 0; h < 2; h++) {
                IntVector qh = IntVector.fromMemorySegment(HI, w, p + 128 + 32 * h, LE);
                long scales = w.get(LONG, p + 192 + 8 * h);
                int xh = x0 + 256 * b + 128 * h;
                for (int j = 0; j < 4; j++) {
                    // Chunks 0 and 2 of the half read ql[0..31], chunks 1 and 3 ql[32..63] (loaded
                    // again rather than chosen between two vectors: a vector phi may be boxed).
                    IntVector ql = IntVector.fromMemorySegment(HI, w, p + 64 * h + 32 * (j & 1), LE);
                    int nibble = 4 * (j >> 1);
                    FloatVector scale = FloatVector.broadcast(H, (byte) (scales >>> (16 * j)))
                            .blend((byte) (scales >>> (16 * j + 8)), SECOND_SUB_BLOCK);
                    for (int k = 0; k < 4; k++) {
                        // Bits 8k+2j, 8k+2j+1 of qh rotated to bits 4-5 (the count wraps for k = 0).
                        IntVector q = ql.lanewise(VectorOperators.LSHR, 8 * k + nibble).and(0x0F)
                                .or(qh.lanewise(VectorOperators.ROR, (8 * k + 2 * j - 4) & 31).and(0x30));
                        FloatVector wq = ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(scale);
                        int xi = xh + 32 * j + 8 * k;
                        sum0 = wq.fma(FloatVector.fromArray(H, v, xi), sum0);
                        sum1 = wq.fma(FloatVector.fromArray(H, v, xi + n), sum1);
                        sum2 = wq.fma(FloatVector.fromArray(H, v, xi + 2 * n), sum2);
                        sum3 = wq.fma(FloatVector.fromArray(H, v, xi + 3 * n), sum3);
                    }
                }
            }
            IntVector pairs = (IntVector) ShortVector.fromMemorySegment(HS, w, p + 192, LE).convertShape(VectorOperators.S2I, HI, 0);
            IntVector even = pairs.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24);
            IntVector odd = pairs.lanewise(VectorOperators.ASHR, 8);
            int g = (x0 + 256 * b) / 16;
            int gn = n / 16;
            sum0 = sum0.sub((FloatVector) even.mul(IntVector.fromArray(HI, sums, g)).add(odd.mul(IntVector.fromArray(HI, sums, g + 8)))
                    .lanewise(VectorOperators.LSHL, 5).convert(VectorOperators.I2F, 0));
            g += gn;
            sum1 = sum1.sub((FloatVector) even.mul(IntVector.fromArray(HI, sums, g)).add(odd.mul(IntVector.fromArray(HI, sums, g + 8)))
                    .lanewise(VectorOperators.LSHL, 5).convert(VectorOperators.I2F, 0));
            g += gn;
            sum2 = sum2.sub((FloatVector) even.mul(IntVector.fromArray(HI, sums, g)).add(odd.mul(IntVector.fromArray(HI, sums, g + 8)))
                    .lanewise(VectorOperators.LSHL, 5).convert(VectorOperators.I2F, 0));
            g += gn;
            sum3 = sum3.sub((FloatVector) even.mul(IntVector.fromArray(HI, sums, g)).add(odd.mul(IntVector.fromArray(HI, sums, g + 8)))
                    .lanewise(VectorOperators.LSHL, 5).convert(VectorOperators.I2F, 0));
            float d = Float16s.toFloat(w.get(SHORT, p + 208));
            int s = col * blocks + b;
            acc0 = sum0.fma(FloatVector.broadcast(H, xs[s] * d), acc0);
            acc1 = sum1.fma(FloatVector.broadcast(H, xs[s + blocks] * d), acc1);
            acc2 = sum2.fma(FloatVector.broadcast(H, xs[s + 2 * blocks] * d), acc2);
            acc3 = sum3.fma(FloatVector.broadcast(H, xs[s + 3 * blocks] * d), acc3);
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
        out[at] = acc0.add(acc0.rearrange(LaneSums.S256_1)).lane(0);
        out[at + stride] = acc1.add(acc1.rearrange(LaneSums.S256_1)).lane(0);
        out[at + 2 * stride] = acc2.add(acc2.rearrange(LaneSums.S256_1)).lane(0);
        out[at + 3 * stride] = acc3.add(acc3.rearrange(LaneSums.S256_1)).lane(0);
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

    /** Sub-block {@code s} (0..7) of the 8 int8 scales packed in {@code scales}. */
    private static int scale(long scales, int s) {
        return (byte) (scales >>> (8 * s));
    }
}
