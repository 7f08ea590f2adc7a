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
 * vector of 16 rows, computed one after another. Per group and super-block: d[16] as floats, the
 * 16 int8 scales [sub-block][row], then the 256 six-bit quants unpacked to bytes in pairs
 * ({@link #pairAt}; a byte per quant costs 22% more memory than the 6.5 bits of the file and saves
 * the bit extraction on every product). Two products of at most 63*127 are added in each 16-bit
 * lane before widening.
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
     * Lane after lane: lane t's integer is summed in a register over a super-block's 8 chunks of
     * 32 values, and its float accumulator stays in a register across the super-blocks; the
     * lanes go to a per-thread array at [16t ..] for hsum_float_8. (The group's weights, at most
     * a few hundred kB, stay in the L2 cache between lanes.)
     */
    @Override
    void dot(int group, Activations x, int col, float[] out, int at) {
        float[] lanes = LANES.get();
        for (int t = 0; t < 8; t++) {
            lane(group, x, col, t, lanes);
        }
        hsum8(lanes, 0, out, at);
    }

    private void lane(int group, Activations x, int col, int t, float[] lanes) {
        MemorySegment w = groups;
        int[] pairs = x.pairs;
        int[] sums = x.sums;
        float[] xs = x.scales;
        FloatVector acc = FloatVector.zero(F16);
        long p = (long) group * blocks * GROUP_BYTES;
        int half = t >> 2;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES) {
            int x0 = col * cols + 256 * b;
            IntVector isum = IntVector.zero(I16);
            for (int c = 0; c < 8; c++) {
                int v = 32 * c + 4 * t;
                long wv = p + QS + (long) ROWS * v;
                int xi = (x0 + v) / 2;
                IntVector s = ((ShortVector) ByteVector.fromMemorySegment(B32, w, wv, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0)).mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, wv + 2 * ROWS, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0)).mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts()))
                        .reinterpretAsInts();
                // Lanes 0-3 take the first sub-block of 16 of each 32 values, lanes 4-7 the second.
                IntVector scale = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * c + half), LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                isum = s.lanewise(VectorOperators.ASHR, 16).add(s.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .mul(scale).add(isum);
            }
            // The offset of q6 - 32, through the sums of 16 activation quants of sub-blocks 2t and 2t+1.
            IntVector even = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * 2 * t, LE)
                    .convertShape(VectorOperators.B2I, I16, 0);
            IntVector odd = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * t + 1), LE)
                    .convertShape(VectorOperators.B2I, I16, 0);
            int g = x0 / 16 + t;
            acc = ((FloatVector) isum.sub(even.mul(sums[g]).add(odd.mul(sums[g + 8])).lanewise(VectorOperators.LSHL, 5))
                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(xs[col * blocks + b]), acc);
        }
        acc.intoArray(lanes, ROWS * t);
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
                isum0 = s0.lanewise(VectorOperators.ASHR, 16).add(s0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scale).add(isum0);
                xi += pn;
                IntVector s1 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
                isum1 = s1.lanewise(VectorOperators.ASHR, 16).add(s1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scale).add(isum1);
                xi += pn;
                IntVector s2 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
                isum2 = s2.lanewise(VectorOperators.ASHR, 16).add(s2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scale).add(isum2);
                xi += pn;
                IntVector s3 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
                isum3 = s3.lanewise(VectorOperators.ASHR, 16).add(s3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scale).add(isum3);
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
