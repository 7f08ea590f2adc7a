package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static io.kvcache.core.tensor.Lanes.FLOAT;
import static io.kvcache.core.tensor.Lanes.H;
import static io.kvcache.core.tensor.Lanes.LE;

/**
 * F32 weights times F32 activations, summed in ggml's AVX-512 order:
 * <ul>
 *   <li>one input row (ggml_vec_dot_f32): four 16-lane fused multiply-add accumulators over steps
 *       of 64 values, added (0+2), (1+3), then together, reduced across lanes; the rest
 *       (cols % 64) fused into that float sum one by one (GCC contracts ggml's sumf += x*y);</li>
 *   <li>a batch (llamafile's tinyBLAS, used when rows % 4 == 0 and cols % 16 == 0): one 16-lane
 *       accumulator per output over steps of 16, reduced across lanes.</li>
 * </ul>
 * A 16-lane register is held as two 8-lane halves (see {@link Lanes#H}).
 */
final class F32Kernel implements Kernel {
    private static final int BYTES = 4;

    @Override
    public Activations.Format activations() {
        return Activations.Format.F32;
    }

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int n = x.cols;
        float[] v = x.values;
        int xo = col * n;
        int blocks = n - n % 64;
        float sum = 0;
        if (blocks > 0) {
            FloatVector lo0 = FloatVector.zero(H), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
            for (int i = 0; i < blocks; i += 64) {
                long p = row + (long) BYTES * i;
                int xi = xo + i;
                lo0 = FloatVector.fromMemorySegment(H, w, p, LE).fma(FloatVector.fromArray(H, v, xi), lo0);
                hi0 = FloatVector.fromMemorySegment(H, w, p + 32, LE).fma(FloatVector.fromArray(H, v, xi + 8), hi0);
                lo1 = FloatVector.fromMemorySegment(H, w, p + 64, LE).fma(FloatVector.fromArray(H, v, xi + 16), lo1);
                hi1 = FloatVector.fromMemorySegment(H, w, p + 96, LE).fma(FloatVector.fromArray(H, v, xi + 24), hi1);
                lo2 = FloatVector.fromMemorySegment(H, w, p + 128, LE).fma(FloatVector.fromArray(H, v, xi + 32), lo2);
                hi2 = FloatVector.fromMemorySegment(H, w, p + 160, LE).fma(FloatVector.fromArray(H, v, xi + 40), hi2);
                lo3 = FloatVector.fromMemorySegment(H, w, p + 192, LE).fma(FloatVector.fromArray(H, v, xi + 48), lo3);
                hi3 = FloatVector.fromMemorySegment(H, w, p + 224, LE).fma(FloatVector.fromArray(H, v, xi + 56), hi3);
            }
            sum = LaneSums.sum16(lo0.add(lo2).add(lo1.add(lo3)), hi0.add(hi2).add(hi1.add(hi3)));
        }
        for (int i = blocks; i < n; i++) {
            sum = Math.fma(w.get(FLOAT, row + (long) BYTES * i), v[xo + i], sum);
        }
        return sum;
    }

    @Override
    public boolean batchOrder(int rows, int cols) {
        return rows % 4 == 0 && cols % 16 == 0;
    }

    @Override
    public float batchDot(MemorySegment w, long row, Activations x, int col) {
        int n = x.cols;
        float[] v = x.values;
        int xo = col * n;
        FloatVector lo = FloatVector.zero(H);
        FloatVector hi = FloatVector.zero(H);
        for (int i = 0; i < n; i += 16) {
            long p = row + (long) BYTES * i;
            lo = FloatVector.fromMemorySegment(H, w, p, LE).fma(FloatVector.fromArray(H, v, xo + i), lo);
            hi = FloatVector.fromMemorySegment(H, w, p + 32, LE).fma(FloatVector.fromArray(H, v, xo + i + 8), hi);
        }
        return LaneSums.sum16(lo, hi);
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        float[] v = x.values;
        int x0 = col * n;
        int x1 = x0 + n;
        int x2 = x1 + n;
        int x3 = x2 + n;
        FloatVector lo0 = FloatVector.zero(H), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
        for (int i = 0; i < n; i += 16) {
            long p = row + (long) BYTES * i;
            FloatVector wl = FloatVector.fromMemorySegment(H, w, p, LE);
            FloatVector wh = FloatVector.fromMemorySegment(H, w, p + 32, LE);
            lo0 = wl.fma(FloatVector.fromArray(H, v, x0 + i), lo0);
            hi0 = wh.fma(FloatVector.fromArray(H, v, x0 + i + 8), hi0);
            lo1 = wl.fma(FloatVector.fromArray(H, v, x1 + i), lo1);
            hi1 = wh.fma(FloatVector.fromArray(H, v, x1 + i + 8), hi1);
            lo2 = wl.fma(FloatVector.fromArray(H, v, x2 + i), lo2);
            hi2 = wh.fma(FloatVector.fromArray(H, v, x2 + i + 8), hi2);
            lo3 = wl.fma(FloatVector.fromArray(H, v, x3 + i), lo3);
            hi3 = wh.fma(FloatVector.fromArray(H, v, x3 + i + 8), hi3);
        }
        out[at] = LaneSums.sum16(lo0, hi0);
        out[at + stride] = LaneSums.sum16(lo1, hi1);
        out[at + 2 * stride] = LaneSums.sum16(lo2, hi2);
        out[at + 3 * stride] = LaneSums.sum16(lo3, hi3);
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        for (int i = 0; i < cols; i++) {
            out[off + i] = w.get(FLOAT, row + (long) BYTES * i);
        }
    }
}
