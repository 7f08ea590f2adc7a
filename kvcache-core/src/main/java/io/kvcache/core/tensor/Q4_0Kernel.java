package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.H;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q4_0 weights (blocks of 32: fp16 d, qs[16]; the low nibbles are values 0..15, the high nibbles
 * 16..31; value = d*(nibble-8)) times Q8_0 activations, as ggml_vec_dot_q4_0_q8_0: per block the
 * integer sum of (nibble-8)*q_x times d_w*d_x, with ggml's AVX2 lanes: the quants go through the
 * same 8 lanes of 4 consecutive values as in {@link Q8_0Kernel}, accumulated across blocks in float.
 */
final class Q4_0Kernel implements Kernel {
    private static final int BLOCK_BYTES = 18;
    private static final VectorSpecies<Byte> HALF = ByteVector.SPECIES_128;
    /**
     * From the 16 low-nibble values (0..15) and the 16 high-nibble ones (16..31) of a block, slices
     * 0-1 and 2-3 of {@link Activations#Q8_0_ORDER}: slice k holds values k, 4+k, ..., 28+k.
     */
    private static final VectorShuffle<Byte> SLICES_01 = slices(0);
    private static final VectorShuffle<Byte> SLICES_23 = slices(2);

    private static VectorShuffle<Byte> slices(int first) {
        int[] index = new int[16];
        for (int i = 0; i < 16; i++) {
            // a value >= 16 lies in the high-nibble vector, which rearrange reads as index - 16
            index[i] = Activations.Q8_0_ORDER[16 * (first / 2) + i];
        }
        return VectorShuffle.fromArray(HALF, index, 0);
    }

    @Override
    public Activations.Format activations() {
        return Activations.Format.Q8_0;
    }

    // The decoding is written out in each loop: C2 does not reliably inline helpers that return
    // vectors, and a vector that crosses a call is boxed.

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int blocks = x.cols / 32;
        float[] v = x.values;
        float[] scales = x.scales;
        int xo = col * x.cols;
        int so = col * blocks;
        FloatVector acc = FloatVector.zero(H);
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            ByteVector packed = ByteVector.fromMemorySegment(HALF, w, p + 2, LE);
            ByteVector lo = packed.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
            ByteVector q01 = lo.rearrange(SLICES_01, hi);
            ByteVector q23 = lo.rearrange(SLICES_23, hi);
            int xb = xo + 32 * b;
            FloatVector sum = ((FloatVector) q01.convertShape(VectorOperators.B2F, H, 0)).mul(FloatVector.fromArray(H, v, xb));
            sum = ((FloatVector) q01.convertShape(VectorOperators.B2F, H, 1)).fma(FloatVector.fromArray(H, v, xb + 8), sum);
            sum = ((FloatVector) q23.convertShape(VectorOperators.B2F, H, 0)).fma(FloatVector.fromArray(H, v, xb + 16), sum);
            sum = ((FloatVector) q23.convertShape(VectorOperators.B2F, H, 1)).fma(FloatVector.fromArray(H, v, xb + 24), sum);
            float d = Float16s.toFloat(w.get(SHORT, p)) * scales[so + b];
            acc = sum.fma(FloatVector.broadcast(H, d), acc);
        }
        return LaneSums.sum8(acc);
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        int blocks = n / 32;
        float[] v = x.values;
        float[] scales = x.scales;
        int x0 = col * n;
        int s0 = col * blocks;
        FloatVector acc0 = FloatVector.zero(H);
        FloatVector acc1 = FloatVector.zero(H);
        FloatVector acc2 = FloatVector.zero(H);
        FloatVector acc3 = FloatVector.zero(H);
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            ByteVector packed = ByteVector.fromMemorySegment(HALF, w, p + 2, LE);
            ByteVector lo = packed.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
            ByteVector q01 = lo.rearrange(SLICES_01, hi);
            ByteVector q23 = lo.rearrange(SLICES_23, hi);
            FloatVector q0 = (FloatVector) q01.convertShape(VectorOperators.B2F, H, 0);
            FloatVector q1 = (FloatVector) q01.convertShape(VectorOperators.B2F, H, 1);
            FloatVector q2 = (FloatVector) q23.convertShape(VectorOperators.B2F, H, 0);
            FloatVector q3 = (FloatVector) q23.convertShape(VectorOperators.B2F, H, 1);
            int xb = x0 + 32 * b;
            FloatVector sum0 = q3.fma(FloatVector.fromArray(H, v, xb + 24), q2.fma(FloatVector.fromArray(H, v, xb + 16),
                    q1.fma(FloatVector.fromArray(H, v, xb + 8), q0.mul(FloatVector.fromArray(H, v, xb)))));
            xb += n;
            FloatVector sum1 = q3.fma(FloatVector.fromArray(H, v, xb + 24), q2.fma(FloatVector.fromArray(H, v, xb + 16),
                    q1.fma(FloatVector.fromArray(H, v, xb + 8), q0.mul(FloatVector.fromArray(H, v, xb)))));
            xb += n;
            FloatVector sum2 = q3.fma(FloatVector.fromArray(H, v, xb + 24), q2.fma(FloatVector.fromArray(H, v, xb + 16),
                    q1.fma(FloatVector.fromArray(H, v, xb + 8), q0.mul(FloatVector.fromArray(H, v, xb)))));
            xb += n;
            FloatVector sum3 = q3.fma(FloatVector.fromArray(H, v, xb + 24), q2.fma(FloatVector.fromArray(H, v, xb + 16),
                    q1.fma(FloatVector.fromArray(H, v, xb + 8), q0.mul(FloatVector.fromArray(H, v, xb)))));
            float d = Float16s.toFloat(w.get(SHORT, p));
            acc0 = sum0.fma(FloatVector.broadcast(H, d * scales[s0 + b]), acc0);
            acc1 = sum1.fma(FloatVector.broadcast(H, d * scales[s0 + blocks + b]), acc1);
            acc2 = sum2.fma(FloatVector.broadcast(H, d * scales[s0 + 2 * blocks + b]), acc2);
            acc3 = sum3.fma(FloatVector.broadcast(H, d * scales[s0 + 3 * blocks + b]), acc3);
        }
        out[at] = LaneSums.sum8(acc0);
        out[at + stride] = LaneSums.sum8(acc1);
        out[at + 2 * stride] = LaneSums.sum8(acc2);
        out[at + 3 * stride] = LaneSums.sum8(acc3);
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        long p = row;
        for (int b = 0; b < cols / 32; b++, p += BLOCK_BYTES) {
            float d = Float16s.toFloat(w.get(SHORT, p));
            for (int i = 0; i < 16; i++) {
                int packed = w.get(ValueLayout.JAVA_BYTE, p + 2 + i) & 0xFF;
                out[off + 32 * b + i] = d * ((packed & 0x0F) - 8);
                out[off + 32 * b + 16 + i] = d * ((packed >> 4) - 8);
            }
        }
    }
}
