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
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * Q8_0 weights (blocks of 32: fp16 d, int8 qs[32]; value = d*q) times Q8_0 activations, as
 * ggml_vec_dot_q8_0_q8_0: per block the integer sum of q_w*q_x times d_w*d_x.
 */
final class Q8_0Kernel implements Kernel {
    private static final int BLOCK_BYTES = 34;

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
        FloatVector acc = FloatVector.zero(F);
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            FloatVector sum = FloatVector.zero(F);
            for (int i = 0; i < 32; i += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, w, p + 2 + i, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                sum = q.fma(FloatVector.fromArray(F, v, xo + 32 * b + i), sum);
            }
            float d = Float16s.toFloat(w.get(SHORT, p)) * scales[so + b];
            acc = sum.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        int blocks = n / 32;
        float[] v = x.values;
        float[] scales = x.scales;
        int x0 = col * n;
        int s0 = col * blocks;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        long p = row;
        for (int b = 0; b < blocks; b++, p += BLOCK_BYTES) {
            FloatVector sum0 = FloatVector.zero(F);
            FloatVector sum1 = FloatVector.zero(F);
            FloatVector sum2 = FloatVector.zero(F);
            FloatVector sum3 = FloatVector.zero(F);
            int xb = x0 + 32 * b;
            for (int i = 0; i < 32; i += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, w, p + 2 + i, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                sum0 = q.fma(FloatVector.fromArray(F, v, xb + i), sum0);
                sum1 = q.fma(FloatVector.fromArray(F, v, xb + n + i), sum1);
                sum2 = q.fma(FloatVector.fromArray(F, v, xb + 2 * n + i), sum2);
                sum3 = q.fma(FloatVector.fromArray(F, v, xb + 3 * n + i), sum3);
            }
            float d = Float16s.toFloat(w.get(SHORT, p));
            acc0 = sum0.fma(FloatVector.broadcast(F, d * scales[s0 + b]), acc0);
            acc1 = sum1.fma(FloatVector.broadcast(F, d * scales[s0 + blocks + b]), acc1);
            acc2 = sum2.fma(FloatVector.broadcast(F, d * scales[s0 + 2 * blocks + b]), acc2);
            acc3 = sum3.fma(FloatVector.broadcast(F, d * scales[s0 + 3 * blocks + b]), acc3);
        }
        out[at] = acc0.reduceLanes(VectorOperators.ADD);
        out[at + stride] = acc1.reduceLanes(VectorOperators.ADD);
        out[at + 2 * stride] = acc2.reduceLanes(VectorOperators.ADD);
        out[at + 3 * stride] = acc3.reduceLanes(VectorOperators.ADD);
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
