package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.kvcache.core.tensor.Lanes.B;
import static io.kvcache.core.tensor.Lanes.F;
import static io.kvcache.core.tensor.Lanes.I;
import static io.kvcache.core.tensor.Lanes.L;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q4_0 matrices that llama.cpp's x86 CPU backend repacks at load ("q4_0_8x8": those whose row
 * count is a multiple of 8), summed as ggml_gemv_q4_0_8x8_q8_0 (one input row) and
 * ggml_gemm_q4_0_8x8_q8_0 (each 4 input rows of a batch, the last batch%4 through the GEMV) sum
 * them: both keep one float accumulator per row and add to it, block by block, the block's exact
 * integer dot of (nibble-8)*q_x with one fused multiply-add by d*d_x; the accumulator is the
 * result, with no horizontal sum. The block layout and decoding are those of {@link Q4_0Kernel};
 * as only whole-block integers matter, the activations stay in their own order
 * ({@link Activations.Format#Q8_0_PLAIN}). A block's products are summed in float lanes (exact:
 * every partial sum is an integer of magnitude at most 32*8*127) and the lanes added as ints. The
 * decoding is written out in each loop: a vector that crosses a call is boxed.
 */
final class Q4_0x8Kernel implements Kernel {
    private static final int BLOCK_BYTES = 18;
    private final Q4_0Kernel plain = new Q4_0Kernel();

    @Override
    public Activations.Format activations() {
        return Activations.Format.Q8_0_PLAIN;
    }

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int blocks = x.cols / 32;
        float[] v = x.values;
        float[] scales = x.scales;
        int xo = col * x.cols;
        int so = col * blocks;
        float acc = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            int xb = xo + 32 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int i = 0; i < 16; i += L) {
                // Nibbles split on int lanes: x86 has no byte shifts, so byte lanes would be widened anyway.
                IntVector packed = (IntVector) ByteVector.fromMemorySegment(B, w, p + 2 + i, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                sum = ((FloatVector) packed.and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, v, xb + i), sum);
                sum = ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, v, xb + 16 + i), sum);
            }
            int isum = ((IntVector) sum.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD);
            acc = Math.fma((float) isum, Float16s.toFloat(w.get(SHORT, p)) * scales[so + b], acc);
        }
        return acc;
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        int blocks = n / 32;
        float[] v = x.values;
        float[] scales = x.scales;
        int x0 = col * n;
        int s0 = col * blocks;
        float acc0 = 0;
        float acc1 = 0;
        float acc2 = 0;
        float acc3 = 0;
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            int xb = x0 + 32 * b;
            FloatVector sum0 = FloatVector.zero(F);
            FloatVector sum1 = FloatVector.zero(F);
            FloatVector sum2 = FloatVector.zero(F);
            FloatVector sum3 = FloatVector.zero(F);
            for (int i = 0; i < 16; i += L) {
                IntVector packed = (IntVector) ByteVector.fromMemorySegment(B, w, p + 2 + i, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                FloatVector lo = (FloatVector) packed.and(0x0F).sub(8).convert(VectorOperators.I2F, 0);
                FloatVector hi = (FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(8).convert(VectorOperators.I2F, 0);
                int xi = xb + i;
                sum0 = hi.fma(FloatVector.fromArray(F, v, xi + 16), lo.fma(FloatVector.fromArray(F, v, xi), sum0));
                sum1 = hi.fma(FloatVector.fromArray(F, v, xi + n + 16), lo.fma(FloatVector.fromArray(F, v, xi + n), sum1));
                sum2 = hi.fma(FloatVector.fromArray(F, v, xi + 2 * n + 16), lo.fma(FloatVector.fromArray(F, v, xi + 2 * n), sum2));
                sum3 = hi.fma(FloatVector.fromArray(F, v, xi + 3 * n + 16), lo.fma(FloatVector.fromArray(F, v, xi + 3 * n), sum3));
            }
            float d = Float16s.toFloat(w.get(SHORT, p));
            acc0 = Math.fma((float) ((IntVector) sum0.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD),
                    d * scales[s0 + b], acc0);
            acc1 = Math.fma((float) ((IntVector) sum1.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD),
                    d * scales[s0 + blocks + b], acc1);
            acc2 = Math.fma((float) ((IntVector) sum2.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD),
                    d * scales[s0 + 2 * blocks + b], acc2);
            acc3 = Math.fma((float) ((IntVector) sum3.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD),
                    d * scales[s0 + 3 * blocks + b], acc3);
        }
        out[at] = acc0;
        out[at + stride] = acc1;
        out[at + 2 * stride] = acc2;
        out[at + 3 * stride] = acc3;
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        plain.readRow(w, row, cols, out, off);
    }
}
