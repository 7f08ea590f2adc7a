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
 * A Q8_0 matrix in {@link RowGroups} of 16 rows, summed as ggml's AVX2 ggml_vec_dot_q8_0_q8_0
 * sums each row (see {@link Q8_0Kernel}): per block, 8 integer lanes where lane t holds the sum of
 * the products 4t..4t+3; each lane accumulated across blocks in float with one fused multiply-add
 * by d_w*d_x, the 8 lanes added at the end as hsum_float_8 adds them. llamafile's tinyBLAS sums
 * batches the same way, so batches use the same per-row order. Here each of those per-row lanes is
 * a vector of 16 rows, computed one after another. Per group and block: d[16] as floats, then the
 * 32 quants in pairs ({@link #pairAt}). Two products (at most 128*127 each) are added in each
 * 16-bit lane before widening.
 */
final class Q8_0RowGroups extends RowGroups {
    private static final int D = 0;
    private static final int QS = 4 * ROWS;
    private static final int GROUP_BYTES = QS + 32 * ROWS;

    Q8_0RowGroups(int rows, int cols) {
        super(GgmlType.Q8_0, rows, cols, GROUP_BYTES);
    }

    @Override
    Activations.Format activations() {
        return Activations.Format.Q8_0;
    }

    @Override
    void copyBlock(MemorySegment data, long src, long dst, int r) {
        groups.set(FLOAT, dst + D + 4 * r, Float16s.toFloat(data.get(SHORT, src)));
        for (int i = 0; i < 32; i++) {
            groups.set(ValueLayout.JAVA_BYTE, dst + QS + pairAt(i, r), data.get(ValueLayout.JAVA_BYTE, src + 2 + i));
        }
    }

    /**
     * One pass over the group's weights in memory order (a decode step streams them from memory),
     * the 8 lanes' float accumulators kept in a per-thread array, lane t at [16t ..].
     */
    @Override
    void dot(int group, Activations x, int col, float[] out, int at) {
        MemorySegment w = groups;
        int[] pairs = x.pairs;
        float[] lanes = LANES.get();
        FloatVector zero = FloatVector.zero(F16);
        for (int t = 0; t < 8; t++) {
            zero.intoArray(lanes, ROWS * t);
        }
        long p = (long) group * blocks * GROUP_BYTES;
        int xb = col * cols / 2;
        int xs = col * blocks;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES, xb += 16) {
            FloatVector d = FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(x.scales[xs + b]);
            for (int t = 0; t < 8; t++) {
                long wv = p + QS + (long) ROWS * 4 * t;
                int xv = xb + 2 * t;
                IntVector s = ((ShortVector) ByteVector.fromMemorySegment(B32, w, wv, LE)
                        .convertShape(VectorOperators.B2S, S32, 0)).mul(IntVector.broadcast(I16, pairs[xv]).reinterpretAsShorts())
                        .add(((ShortVector) ByteVector.fromMemorySegment(B32, w, wv + 2 * ROWS, LE)
                                .convertShape(VectorOperators.B2S, S32, 0)).mul(IntVector.broadcast(I16, pairs[xv + 1]).reinterpretAsShorts())).reinterpretAsInts();
                ((FloatVector) s.lanewise(VectorOperators.ASHR, 16).add(s.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0)).fma(d, FloatVector.fromArray(F16, lanes, ROWS * t))
                        .intoArray(lanes, ROWS * t);
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
        int[] pairs = x.pairs;
        float[] scales = x.scales;
        int pn = cols / 2;
        FloatVector acc0 = FloatVector.zero(F16);
        FloatVector acc1 = FloatVector.zero(F16);
        FloatVector acc2 = FloatVector.zero(F16);
        FloatVector acc3 = FloatVector.zero(F16);
        long p = (long) group * blocks * GROUP_BYTES;
        int xv = col * cols / 2 + 2 * t;
        int xs = col * blocks;
        long wv = p + QS + (long) ROWS * 4 * t;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES, wv += GROUP_BYTES, xv += 16) {
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B32, w, wv, LE).convertShape(VectorOperators.B2S, S32, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B32, w, wv + 2 * ROWS, LE).convertShape(VectorOperators.B2S, S32, 0);
            FloatVector d = FloatVector.fromMemorySegment(F16, w, p + D, LE);
            int xi = xv;
            IntVector s0 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
            acc0 = ((FloatVector) s0.lanewise(VectorOperators.ASHR, 16).add(s0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xs + b]), acc0);
            xi += pn;
            IntVector s1 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
            acc1 = ((FloatVector) s1.lanewise(VectorOperators.ASHR, 16).add(s1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xs + blocks + b]), acc1);
            xi += pn;
            IntVector s2 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
            acc2 = ((FloatVector) s2.lanewise(VectorOperators.ASHR, 16).add(s2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xs + 2 * blocks + b]), acc2);
            xi += pn;
            IntVector s3 = w0.mul(IntVector.broadcast(I16, pairs[xi]).reinterpretAsShorts()).add(w1.mul(IntVector.broadcast(I16, pairs[xi + 1]).reinterpretAsShorts())).reinterpretAsInts();
            acc3 = ((FloatVector) s3.lanewise(VectorOperators.ASHR, 16).add(s3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xs + 3 * blocks + b]), acc3);
        }
        acc0.intoArray(lanes, ROWS * t);
        acc1.intoArray(lanes, ROWS * (8 + t));
        acc2.intoArray(lanes, ROWS * (16 + t));
        acc3.intoArray(lanes, ROWS * (24 + t));
    }
}
