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
 * 16 int8 scales [sub-block][row], then the 256 six-bit quants unpacked to bytes [value][row] (a
 * byte per quant costs 22% more memory than the 6.5 bits of the file and saves the bit
 * extraction on every product). Four products of at most 63*127 are added in 16-bit lanes
 * before widening.
 */
final class Q6KRowGroups extends RowGroups {
    private static final int D = 0;
    private static final int SCALES = 64;
    private static final int QS = SCALES + 16 * ROWS;
    private static final int GROUP_BYTES = QS + 256 * ROWS;
    /** Per thread, the 8 lanes' integers of the current super-block (lane t at 16t). */
    private static final ThreadLocal<int[]> INTS = ThreadLocal.withInitial(() -> new int[8 * ROWS]);

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
                long v = dst + QS + (long) ROWS * (128 * h + i) + r;
                groups.set(ValueLayout.JAVA_BYTE, v, (byte) (qlA & 0xF | (qh & 3) << 4));
                groups.set(ValueLayout.JAVA_BYTE, v + ROWS * 32, (byte) (qlB & 0xF | (qh >> 2 & 3) << 4));
                groups.set(ValueLayout.JAVA_BYTE, v + ROWS * 64, (byte) (qlA >> 4 | (qh >> 4 & 3) << 4));
                groups.set(ValueLayout.JAVA_BYTE, v + ROWS * 96, (byte) (qlB >> 4 | (qh >> 6) << 4));
            }
        }
    }

    /**
     * One pass over the group's weights in memory order (a decode step streams them from memory):
     * each lane's integers of the current super-block and its float accumulator are kept in
     * per-thread arrays, lane t at [16t ..].
     */
    @Override
    void dot(int group, Activations x, int col, float[] out, int at) {
        MemorySegment w = groups;
        short[] q = x.quants;
        int[] sums = x.sums;
        float[] lanes = LANES.get();
        int[] ints = INTS.get();
        FloatVector zero = FloatVector.zero(F16);
        for (int t = 0; t < 8; t++) {
            zero.intoArray(lanes, ROWS * t);
        }
        long p = (long) group * blocks * GROUP_BYTES;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES) {
            int xb = col * cols + 256 * b;
            for (int c = 0; c < 8; c++) {
                for (int t = 0; t < 8; t++) {
                    int v = 32 * c + 4 * t;
                    long wv = p + QS + (long) ROWS * v;
                    ShortVector s = ((ShortVector) ByteVector.fromMemorySegment(B16, w, wv, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0)).mul(q[xb + v]);
                    s = ((ShortVector) ByteVector.fromMemorySegment(B16, w, wv + ROWS, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0)).mul(q[xb + v + 1]).add(s);
                    s = ((ShortVector) ByteVector.fromMemorySegment(B16, w, wv + 2 * ROWS, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0)).mul(q[xb + v + 2]).add(s);
                    s = ((ShortVector) ByteVector.fromMemorySegment(B16, w, wv + 3 * ROWS, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0)).mul(q[xb + v + 3]).add(s);
                    // Lanes 0-3 take the first sub-block of 16 of each 32 values, lanes 4-7 the second.
                    IntVector scaled = ((IntVector) s.convertShape(VectorOperators.S2I, I16, 0))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * c + (t >> 2)), LE)
                                    .convertShape(VectorOperators.B2I, I16, 0));
                    if (c > 0) {
                        scaled = scaled.add(IntVector.fromArray(I16, ints, ROWS * t));
                    }
                    scaled.intoArray(ints, ROWS * t);
                }
            }
            int g = xb / 16;
            FloatVector d = FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(x.scales[col * blocks + b]);
            for (int t = 0; t < 8; t++) {
                // The offset of q6 - 32, through the sums of 16 activation quants of sub-blocks 2t and 2t+1.
                IntVector even = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * 2 * t, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                IntVector odd = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * t + 1), LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                IntVector offset = even.mul(sums[g + t]).add(odd.mul(sums[g + 8 + t])).lanewise(VectorOperators.LSHL, 5);
                ((FloatVector) IntVector.fromArray(I16, ints, ROWS * t).sub(offset).convert(VectorOperators.I2F, 0))
                        .fma(d, FloatVector.fromArray(F16, lanes, ROWS * t)).intoArray(lanes, ROWS * t);
            }
        }
        hsum8(lanes, 0, out, at);
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
        short[] q = x.quants;
        int[] sums = x.sums;
        float[] xs = x.scales;
        int gn = cols / 16;
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
                ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B16, w, wv, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B16, w, wv + ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ShortVector w2 = (ShortVector) ByteVector.fromMemorySegment(B16, w, wv + 2 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ShortVector w3 = (ShortVector) ByteVector.fromMemorySegment(B16, w, wv + 3 * ROWS, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                IntVector scale = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * c + half), LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                int xi = x0 + v;
                isum0 = ((IntVector) w0.mul(q[xi]).add(w1.mul(q[xi + 1])).add(w2.mul(q[xi + 2])).add(w3.mul(q[xi + 3]))
                        .convertShape(VectorOperators.S2I, I16, 0)).mul(scale).add(isum0);
                xi += cols;
                isum1 = ((IntVector) w0.mul(q[xi]).add(w1.mul(q[xi + 1])).add(w2.mul(q[xi + 2])).add(w3.mul(q[xi + 3]))
                        .convertShape(VectorOperators.S2I, I16, 0)).mul(scale).add(isum1);
                xi += cols;
                isum2 = ((IntVector) w0.mul(q[xi]).add(w1.mul(q[xi + 1])).add(w2.mul(q[xi + 2])).add(w3.mul(q[xi + 3]))
                        .convertShape(VectorOperators.S2I, I16, 0)).mul(scale).add(isum2);
                xi += cols;
                isum3 = ((IntVector) w0.mul(q[xi]).add(w1.mul(q[xi + 1])).add(w2.mul(q[xi + 2])).add(w3.mul(q[xi + 3]))
                        .convertShape(VectorOperators.S2I, I16, 0)).mul(scale).add(isum3);
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
