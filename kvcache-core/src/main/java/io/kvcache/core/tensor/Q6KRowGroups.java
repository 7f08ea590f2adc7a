package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.FLOAT;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * A Q6_K matrix in {@link RowGroups} of 16 rows, summed as ggml_vec_dot_q6_K_q8_K sums each row
 * (see {@link Q6KKernel}): per super-block, 8 integer lanes where lane t collects scale*q6*q_x of
 * the values 4t..4t+3 of every 32, minus 32*(scale[2t]*bsum[2t] + scale[2t+1]*bsum[2t+1]); each
 * lane is accumulated across super-blocks in float with one fused multiply-add by d_x*d, and the
 * 8 lanes are added at the end as hsum_float_8 adds them. Here each of those 8 per-row lanes is a
 * vector of 16 rows. Per group and super-block: d[16] as floats, the 16 int8 scales
 * [sub-block][row], then the 256 six-bit quants unpacked to bytes in pairs ({@link #pairAt}; a
 * byte per quant costs 22% more memory than the 6.5 bits of the file and saves the bit extraction
 * on every product). Two products of at most 63*127 (activation quants are within +-127) are
 * added in each 16-bit lane, so a row's two 16-bit lanes add to at most 32004: their sum is
 * widened as (s + (s << 16)) >> 16 on the int s they form, whose 32-bit intermediate (the sum
 * times 2^16 plus the low lane's unsigned bits) cannot wrap.
 */
final class Q6KRowGroups extends RowGroups {
    private static final int D = 0;
    private static final int SCALES = 64;
    private static final int QS = SCALES + 16 * ROWS;
    private static final int GROUP_BYTES = QS + 256 * ROWS;

    Q6KRowGroups(int rows, int cols) {
        super(GgmlType.Q6_K, rows, cols, GROUP_BYTES);
    }

    @Override
    Activations.Format activations() {
        return Activations.Format.Q8_K;
    }

    @Override
    void copyBlock(MemorySegment data, long src, long dst, int r) {
        groups.set(FLOAT, dst + D + 4 * r, Float16s.toFloat(data.get(SHORT, src + 208)));
        for (int s = 0; s < 16; s++) {
            groups.set(ValueLayout.JAVA_BYTE, dst + SCALES + ROWS * s + r, data.get(ValueLayout.JAVA_BYTE, src + 192 + s));
        }
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 32; i++) {
                int qlA = data.get(ValueLayout.JAVA_BYTE, src + 64 * h + i) & 0xFF;
                int qlB = data.get(ValueLayout.JAVA_BYTE, src + 64 * h + 32 + i) & 0xFF;
                int qh = data.get(ValueLayout.JAVA_BYTE, src + 128 + 32 * h + i) & 0xFF;
                long v = dst + QS;
                int value = 128 * h + i;
                groups.set(ValueLayout.JAVA_BYTE, v + pairAt(value, r), (byte) (qlA & 0xF | (qh & 3) << 4));
                groups.set(ValueLayout.JAVA_BYTE, v + pairAt(value + 32, r), (byte) (qlB & 0xF | (qh >> 2 & 3) << 4));
                groups.set(ValueLayout.JAVA_BYTE, v + pairAt(value + 64, r), (byte) (qlA >> 4 | (qh >> 4 & 3) << 4));
                groups.set(ValueLayout.JAVA_BYTE, v + pairAt(value + 96, r), (byte) (qlB >> 4 | (qh >> 6) << 4));
            }
        }
    }

    /**
     * Per thread, for one group: each super-block's 8 lane integers of scale*q6*q_x (lane t of
     * super-block b at [128b + 16t ..]), then each lane's scale[2t]*bsum[2t] + scale[2t+1]*bsum[2t+1].
     */
    private static final ThreadLocal<int[][]> SUMS = ThreadLocal.withInitial(() -> new int[2][0]);

    /**
     * The group's integers in one pass over its weights ({@link #products}), then each lane's
     * float accumulation (lanes 0-3, then 4-7), into a per-thread array at [16t ..] for
     * hsum_float_8. (In one method, C2 stops inlining before the end of it and boxes the vectors.)
     */
    @Override
    void dot(int group, Activations x, int col, float[] out, int at) {
        float[] lanes = LANES.get();
        int[][] sums = SUMS.get();
        if (sums[0].length < 128 * blocks) {
            sums[0] = new int[128 * blocks];
            sums[1] = new int[128 * blocks];
        }
        products(group, x, col, sums[0], sums[1]);
        accumulate(group, x, col, 0, sums[0], sums[1], lanes);
        accumulate(group, x, col, 4, sums[0], sums[1], lanes);
        hsum8(lanes, 0, out, at);
    }

    /**
     * The 8 lanes side by side, each a vector of the 16 rows: a chunk c of 32 values is 512
     * consecutive bytes (lane t's at 64t), lanes 0-3 in sub-block 2c, lanes 4-7 in 2c+1; each
     * lane's integer is summed in a register over the super-block. The scales times the sums of
     * their sub-block's activation quants are lane c's offset of q6 - 32 (ggml's lane t subtracts
     * 32*(scale[2t]*bsum[2t] + scale[2t+1]*bsum[2t+1])).
     */
    private void products(int group, Activations x, int col, int[] products, int[] offsets) {
        MemorySegment w = groups;
        int[] pairs = x.pairs;
        int[] bsums = x.sums;
        long p = (long) group * blocks * GROUP_BYTES;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES) {
            int x0 = col * cols + 256 * b;
            int g = x0 / 16;
            IntVector i0 = IntVector.zero(I16);
            IntVector i1 = IntVector.zero(I16);
            IntVector i2 = IntVector.zero(I16);
            IntVector i3 = IntVector.zero(I16);
            IntVector i4 = IntVector.zero(I16);
            IntVector i5 = IntVector.zero(I16);
            IntVector i6 = IntVector.zero(I16);
            IntVector i7 = IntVector.zero(I16);
            for (int c = 0; c < 8; c++) {
                long wv = p + QS + 32L * ROWS * c;
                int xi = x0 / 2 + 16 * c;
                IntVector first = subBlockScale(w, p, 2 * c);
                IntVector second = subBlockScale(w, p, 2 * c + 1);
                first.mul(bsums[g + c]).add(second.mul(bsums[g + c + 8])).intoArray(offsets, 128 * b + 16 * c);
                long w0 = wv + 0;
                IntVector s0 = ((ShortVector) ByteVector.fromMemorySegment(B32, w, w0, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                        .mul(IntVector.broadcast(I16, pairs[xi + 0]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, w0 + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                                .mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                i0 = s0.add(s0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(first).add(i0);
                long w1 = wv + 64;
                IntVector s1 = ((ShortVector) ByteVector.fromMemorySegment(B32, w, w1, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                        .mul(IntVector.broadcast(I16, pairs[xi + 2]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, w1 + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                                .mul(IntVector.broadcast(I16, pairs[xi + 3]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                i1 = s1.add(s1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(first).add(i1);
                long w2 = wv + 128;
                IntVector s2 = ((ShortVector) ByteVector.fromMemorySegment(B32, w, w2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                        .mul(IntVector.broadcast(I16, pairs[xi + 4]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, w2 + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                                .mul(IntVector.broadcast(I16, pairs[xi + 5]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                i2 = s2.add(s2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(first).add(i2);
                long w3 = wv + 192;
                IntVector s3 = ((ShortVector) ByteVector.fromMemorySegment(B32, w, w3, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                        .mul(IntVector.broadcast(I16, pairs[xi + 6]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, w3 + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                                .mul(IntVector.broadcast(I16, pairs[xi + 7]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                i3 = s3.add(s3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(first).add(i3);
                long w4 = wv + 256;
                IntVector s4 = ((ShortVector) ByteVector.fromMemorySegment(B32, w, w4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                        .mul(IntVector.broadcast(I16, pairs[xi + 8]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, w4 + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                                .mul(IntVector.broadcast(I16, pairs[xi + 9]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                i4 = s4.add(s4.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(second).add(i4);
                long w5 = wv + 320;
                IntVector s5 = ((ShortVector) ByteVector.fromMemorySegment(B32, w, w5, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                        .mul(IntVector.broadcast(I16, pairs[xi + 10]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, w5 + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                                .mul(IntVector.broadcast(I16, pairs[xi + 11]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                i5 = s5.add(s5.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(second).add(i5);
                long w6 = wv + 384;
                IntVector s6 = ((ShortVector) ByteVector.fromMemorySegment(B32, w, w6, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                        .mul(IntVector.broadcast(I16, pairs[xi + 12]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, w6 + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                                .mul(IntVector.broadcast(I16, pairs[xi + 13]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                i6 = s6.add(s6.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(second).add(i6);
                long w7 = wv + 448;
                IntVector s7 = ((ShortVector) ByteVector.fromMemorySegment(B32, w, w7, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                        .mul(IntVector.broadcast(I16, pairs[xi + 14]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, w7 + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0))
                                .mul(IntVector.broadcast(I16, pairs[xi + 15]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                i7 = s7.add(s7.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(second).add(i7);
            }
            i0.intoArray(products, 128 * b + 0);
            i1.intoArray(products, 128 * b + 16);
            i2.intoArray(products, 128 * b + 32);
            i3.intoArray(products, 128 * b + 48);
            i4.intoArray(products, 128 * b + 64);
            i5.intoArray(products, 128 * b + 80);
            i6.intoArray(products, 128 * b + 96);
            i7.intoArray(products, 128 * b + 112);
        }
    }

    /** Lanes t0 .. t0+3: each super-block's integer minus 32 times its offset, to float, accumulated with d*d_x. */
    private void accumulate(int group, Activations x, int col, int t0, int[] products, int[] offsets, float[] lanes) {
        MemorySegment w = groups;
        float[] xs = x.scales;
        int xb = col * blocks;
        FloatVector acc0 = FloatVector.zero(F16);
        FloatVector acc1 = FloatVector.zero(F16);
        FloatVector acc2 = FloatVector.zero(F16);
        FloatVector acc3 = FloatVector.zero(F16);
        long p = (long) group * blocks * GROUP_BYTES;
        for (int b = 0, q = 16 * t0; b < blocks; b++, p += GROUP_BYTES, q += 128) {
            acc0 = ((FloatVector) IntVector.fromArray(I16, products, q + 0).sub(IntVector.fromArray(I16, offsets, q + 0).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(xs[xb + b]), acc0);
            acc1 = ((FloatVector) IntVector.fromArray(I16, products, q + 16).sub(IntVector.fromArray(I16, offsets, q + 16).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(xs[xb + b]), acc1);
            acc2 = ((FloatVector) IntVector.fromArray(I16, products, q + 32).sub(IntVector.fromArray(I16, offsets, q + 32).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(xs[xb + b]), acc2);
            acc3 = ((FloatVector) IntVector.fromArray(I16, products, q + 48).sub(IntVector.fromArray(I16, offsets, q + 48).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(xs[xb + b]), acc3);
        }
        acc0.intoArray(lanes, ROWS * (t0 + 0));
        acc1.intoArray(lanes, ROWS * (t0 + 1));
        acc2.intoArray(lanes, ROWS * (t0 + 2));
        acc3.intoArray(lanes, ROWS * (t0 + 3));
    }

    /** Sub-block {@code s}'s int8 scale of each of the 16 rows of the super-block at {@code p}. */
    private static IntVector subBlockScale(MemorySegment w, long p, int s) {
        return (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * s, LE).convertShape(VectorOperators.B2I, I16, 0);
    }

    @Override
    void dot4(int group, Activations x, int col, float[] out, int at, int stride) {
        float[] lanes = LANES.get();
        for (int t = 0; t < 8; t++) {
            lane4(group, x, col, t, lanes);
        }
        for (int k = 0; k < 4; k++) {
            hsum8(lanes, 8 * ROWS * k, out, at + k * stride);
        }
    }

    /** As the lanes of {@link #dot} for input columns col .. col+3, each weight vector loaded once; column k's lane at lanes[16(8k+t) ..]. */
    private void lane4(int group, Activations x, int col, int t, float[] lanes) {
        MemorySegment w = groups;
        int[] pairs = x.pairs;
        int[] sums = x.sums;
        float[] xs = x.scales;
        int gn = cols / 16;
        int pn = cols / 2;
        FloatVector acc0 = FloatVector.zero(F16);
        FloatVector acc1 = FloatVector.zero(F16);
        FloatVector acc2 = FloatVector.zero(F16);
        FloatVector acc3 = FloatVector.zero(F16);
        long p = (long) group * blocks * GROUP_BYTES;
        int half = t >> 2;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES) {
            int x0 = col * cols + 256 * b;
            IntVector isum0 = IntVector.zero(I16);
            IntVector isum1 = IntVector.zero(I16);
            IntVector isum2 = IntVector.zero(I16);
            IntVector isum3 = IntVector.zero(I16);
            for (int c = 0; c < 8; c++) {
                int v = 32 * c + 4 * t;
                long wv = p + QS + (long) ROWS * v;
                ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B32, w, wv, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B32, w, wv + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                IntVector scale = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * c + half), LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                int xi = (x0 + v) / 2;
                IntVector s0 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
                isum0 = s0.add(s0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(scale).add(isum0);
                xi += pn;
                IntVector s1 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
                isum1 = s1.add(s1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(scale).add(isum1);
                xi += pn;
                IntVector s2 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
                isum2 = s2.add(s2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(scale).add(isum2);
                xi += pn;
                IntVector s3 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
                isum3 = s3.add(s3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).mul(scale).add(isum3);
            }
            IntVector even = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * 2 * t, LE)
                    .convertShape(VectorOperators.B2I, I16, 0);
            IntVector odd = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * t + 1), LE)
                    .convertShape(VectorOperators.B2I, I16, 0);
            FloatVector d = FloatVector.fromMemorySegment(F16, w, p + D, LE);
            int g = x0 / 16 + t;
            int s = col * blocks + b;
            acc0 = ((FloatVector) isum0.sub(even.mul(sums[g]).add(odd.mul(sums[g + 8])).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(xs[s]), acc0);
            g += gn;
            acc1 = ((FloatVector) isum1.sub(even.mul(sums[g]).add(odd.mul(sums[g + 8])).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(xs[s + blocks]), acc1);
            g += gn;
            acc2 = ((FloatVector) isum2.sub(even.mul(sums[g]).add(odd.mul(sums[g + 8])).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(xs[s + 2 * blocks]), acc2);
            g += gn;
            acc3 = ((FloatVector) isum3.sub(even.mul(sums[g]).add(odd.mul(sums[g + 8])).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(xs[s + 3 * blocks]), acc3);
        }
        acc0.intoArray(lanes, ROWS * t);
        acc1.intoArray(lanes, ROWS * (8 + t));
        acc2.intoArray(lanes, ROWS * (16 + t));
        acc3.intoArray(lanes, ROWS * (24 + t));
    }
}
