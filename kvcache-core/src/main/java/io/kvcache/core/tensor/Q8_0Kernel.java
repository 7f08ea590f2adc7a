package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.H;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q8_0 weights (blocks of 32: fp16 d, int8 qs[32]; value = d*q) times Q8_0 activations, as ggml's
 * AVX2 ggml_vec_dot_q8_0_q8_0 (and llamafile's tinyBLAS_Q0_AVX for batches, which sums the same
 * way): per block, 8 integer lanes each hold the sum of 4 consecutive q_w*q_x; each lane is
 * accumulated across blocks in float with one fused multiply-add by d_w*d_x, and the 8 lanes are
 * added at the end as hsum_float_8 adds them. The activations are stored in
 * {@link Activations#Q8_0_ORDER}, so that slice k (8 lanes) holds member k of each group of 4; the
 * weights are read as 8 ints and slice k taken as byte k of each. The integer sums are exact in
 * float lanes.
 */
final class Q8_0Kernel implements Kernel {
    private static final int BLOCK_BYTES = 34;
    /** A block's 32 quants as 8 ints: int t holds quants 4t..4t+3, so member k of group t is its byte k. */
    private static final VectorSpecies<Integer> QUADS = IntVector.SPECIES_256;

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
            IntVector quads = IntVector.fromMemorySegment(QUADS, w, p + 2, LE);
            int xb = xo + 32 * b;
            // Slice k: byte k of every int, sign-extended (shift it to the top, then arithmetic-shift down).
            FloatVector sum = member(quads, 0).mul(FloatVector.fromArray(H, v, xb));
            sum = member(quads, 1).fma(FloatVector.fromArray(H, v, xb + 8), sum);
            sum = member(quads, 2).fma(FloatVector.fromArray(H, v, xb + 16), sum);
            sum = member(quads, 3).fma(FloatVector.fromArray(H, v, xb + 24), sum);
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
            IntVector quads = IntVector.fromMemorySegment(QUADS, w, p + 2, LE);
            FloatVector q0 = member(quads, 0);
            FloatVector q1 = member(quads, 1);
            FloatVector q2 = member(quads, 2);
            FloatVector q3 = member(quads, 3);
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

    /** Byte k of each int lane, sign-extended, as floats. */
    private static FloatVector member(IntVector quads, int k) {
        return (FloatVector) quads.lanewise(VectorOperators.LSHL, 24 - 8 * k).lanewise(VectorOperators.ASHR, 24)
                .convert(VectorOperators.I2F, 0);
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        long p = row;
        for (int b = 0; b < cols / 32; b++, p += BLOCK_BYTES) {
            float d = Float16s.toFloat(w.get(SHORT, p));
            for (int i = 0; i < 32; i++) {
                out[off + 32 * b + i] = d * w.get(ValueLayout.JAVA_BYTE, p + 2 + i);
            }
        }
    }
}
