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
 * 32 quants [value][row]. Two products (at most 128*127 each) are added in 16-bit lanes before
 * widening.
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
            groups.set(ValueLayout.JAVA_BYTE, dst + QS + ROWS * i + r, data.get(ValueLayout.JAVA_BYTE, src + 2 + i));
        }
    }

    /**
     * One pass over the group's weights in memory order (a decode step streams them from memory),
     * the 8 lanes' float accumulators kept in a per-thread array, lane t at [16t ..].
     */
    @Override
    void dot(int group, Activations x, int col, float[] out, int at) {
        MemorySegment w = groups;
        short[] q = x.quants;
        float[] lanes = LANES.get();
        FloatVector zero = FloatVector.zero(F16);
        for (int t = 0; t < 8; t++) {
            zero.intoArray(lanes, ROWS * t);
        }
        long p = (long) group * blocks * GROUP_BYTES;
        int xb = col * cols;
        int xs = col * blocks;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES, xb += 32) {
            FloatVector d = FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(x.scales[xs + b]);
            for (int t = 0; t < 8; t++) {
                long wv = p + QS + (long) ROWS * 4 * t;
                int xv = xb + 4 * t;
                ShortVector first = ((ShortVector) ByteVector.fromMemorySegment(B16, w, wv, LE)
                        .convertShape(VectorOperators.B2S, S16, 0)).mul(q[xv]);
                first = ((ShortVector) ByteVector.fromMemorySegment(B16, w, wv + ROWS, LE)
                        .convertShape(VectorOperators.B2S, S16, 0)).mul(q[xv + 1]).add(first);
                ShortVector second = ((ShortVector) ByteVector.fromMemorySegment(B16, w, wv + 2 * ROWS, LE)
                        .convertShape(VectorOperators.B2S, S16, 0)).mul(q[xv + 2]);
                second = ((ShortVector) ByteVector.fromMemorySegment(B16, w, wv + 3 * ROWS, LE)
                        .convertShape(VectorOperators.B2S, S16, 0)).mul(q[xv + 3]).add(second);
                IntVector sum = ((IntVector) first.convertShape(VectorOperators.S2I, I16, 0))
                        .add((IntVector) second.convertShape(VectorOperators.S2I, I16, 0));
                ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(d, FloatVector.fromArray(F16, lanes, ROWS * t))
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
        short[] q = x.quants;
        float[] scales = x.scales;
        FloatVector acc0 = FloatVector.zero(F16);
        FloatVector acc1 = FloatVector.zero(F16);
        FloatVector acc2 = FloatVector.zero(F16);
        FloatVector acc3 = FloatVector.zero(F16);
        long p = (long) group * blocks * GROUP_BYTES;
        int xv = col * cols + 4 * t;
        int xs = col * blocks;
        long wv = p + QS + (long) ROWS * 4 * t;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES, wv += GROUP_BYTES, xv += 32) {
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B16, w, wv, LE).convertShape(VectorOperators.B2S, S16, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B16, w, wv + ROWS, LE).convertShape(VectorOperators.B2S, S16, 0);
            ShortVector w2 = (ShortVector) ByteVector.fromMemorySegment(B16, w, wv + 2 * ROWS, LE).convertShape(VectorOperators.B2S, S16, 0);
            ShortVector w3 = (ShortVector) ByteVector.fromMemorySegment(B16, w, wv + 3 * ROWS, LE).convertShape(VectorOperators.B2S, S16, 0);
            FloatVector d = FloatVector.fromMemorySegment(F16, w, p + D, LE);
            int xi = xv;
            acc0 = ((FloatVector) ((IntVector) w0.mul(q[xi]).add(w1.mul(q[xi + 1])).convertShape(VectorOperators.S2I, I16, 0))
                    .add((IntVector) w2.mul(q[xi + 2]).add(w3.mul(q[xi + 3])).convertShape(VectorOperators.S2I, I16, 0))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xs + b]), acc0);
            xi += cols;
            acc1 = ((FloatVector) ((IntVector) w0.mul(q[xi]).add(w1.mul(q[xi + 1])).convertShape(VectorOperators.S2I, I16, 0))
                    .add((IntVector) w2.mul(q[xi + 2]).add(w3.mul(q[xi + 3])).convertShape(VectorOperators.S2I, I16, 0))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xs + blocks + b]), acc1);
            xi += cols;
            acc2 = ((FloatVector) ((IntVector) w0.mul(q[xi]).add(w1.mul(q[xi + 1])).convertShape(VectorOperators.S2I, I16, 0))
                    .add((IntVector) w2.mul(q[xi + 2]).add(w3.mul(q[xi + 3])).convertShape(VectorOperators.S2I, I16, 0))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xs + 2 * blocks + b]), acc2);
            xi += cols;
            acc3 = ((FloatVector) ((IntVector) w0.mul(q[xi]).add(w1.mul(q[xi + 1])).convertShape(VectorOperators.S2I, I16, 0))
                    .add((IntVector) w2.mul(q[xi + 2]).add(w3.mul(q[xi + 3])).convertShape(VectorOperators.S2I, I16, 0))
                    .convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xs + 3 * blocks + b]), acc3);
        }
        acc0.intoArray(lanes, ROWS * t);
        acc1.intoArray(lanes, ROWS * (8 + t));
        acc2.intoArray(lanes, ROWS * (16 + t));
        acc3.intoArray(lanes, ROWS * (24 + t));
    }
}
