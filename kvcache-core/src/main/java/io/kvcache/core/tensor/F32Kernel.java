package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.kvcache.core.tensor.Lanes.F;
import static io.kvcache.core.tensor.Lanes.FLOAT;
import static io.kvcache.core.tensor.Lanes.L;
import static io.kvcache.core.tensor.Lanes.LE;

/** F32 weights times F32 activations. */
final class F32Kernel implements Kernel {
    private static final int BYTES = 4;

    @Override
    public Activations.Format activations() {
        return Activations.Format.F32;
    }

    // The decoding is written out in each loop: C2 does not reliably inline helpers that return
    // vectors, and a vector that crosses a call is boxed.

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int n = x.cols;
        float[] v = x.values;
        int xo = col * n;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, row + (long) BYTES * i, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, w, row + (long) BYTES * (i + L), LE);
            acc0 = w0.fma(FloatVector.fromArray(F, v, xo + i), acc0);
            acc1 = w1.fma(FloatVector.fromArray(F, v, xo + i + L), acc1);
        }
        for (; i <= n - L; i += L) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, row + (long) BYTES * i, LE);
            acc0 = w0.fma(FloatVector.fromArray(F, v, xo + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += w.get(FLOAT, row + (long) BYTES * i) * v[xo + i];
        }
        return sum;
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        float[] v = x.values;
        int x0 = col * n;
        int x1 = x0 + n;
        int x2 = x1 + n;
        int x3 = x2 + n;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, row + (long) BYTES * i, LE);
            acc0 = w0.fma(FloatVector.fromArray(F, v, x0 + i), acc0);
            acc1 = w0.fma(FloatVector.fromArray(F, v, x1 + i), acc1);
            acc2 = w0.fma(FloatVector.fromArray(F, v, x2 + i), acc2);
            acc3 = w0.fma(FloatVector.fromArray(F, v, x3 + i), acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float wi = w.get(FLOAT, row + (long) BYTES * i);
            s0 += wi * v[x0 + i];
            s1 += wi * v[x1 + i];
            s2 += wi * v[x2 + i];
            s3 += wi * v[x3 + i];
        }
        out[at] = s0;
        out[at + stride] = s1;
        out[at + 2 * stride] = s2;
        out[at + 3 * stride] = s3;
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        for (int i = 0; i < cols; i++) {
            out[off + i] = w.get(FLOAT, row + (long) BYTES * i);
        }
    }
}
