package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.kvcache.core.tensor.Lanes.H;
import static io.kvcache.core.tensor.Lanes.HI;
import static io.kvcache.core.tensor.Lanes.HS;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * F16 weights times activations rounded to fp16. Products of two fp16 values are exact in float,
 * so only the order of the additions matters, and it is ggml's on AVX-512:
 * <ul>
 *   <li>one input row (ggml_vec_dot_f16): four 16-lane accumulators over steps of 64 values, added
 *       (0+2), (1+3), then together, reduced across lanes; the rest (cols % 64) added in double;</li>
 *   <li>a batch (llamafile's tinyBLAS, used when rows % 4 == 0 and cols % 16 == 0): one 16-lane
 *       accumulator per output over steps of 16, reduced across lanes.</li>
 * </ul>
 * A 16-lane register is held as two 8-lane halves (see {@link Lanes#H}). The Vector API has no fp16
 * conversion, so halves are widened by hand: the sign-extended half shifted left by 13 puts the sign
 * at bit 31 and exponent+mantissa at bits 27..13; read as a float that is the value times 2^-112,
 * exact for normal and subnormal halves. Infinities and NaNs come out as large finite values
 * (weights never hold them). The decoding is written out in each loop: C2 does not reliably inline
 * helpers that return vectors, and a vector that crosses a call is boxed.
 */
final class F16Kernel implements Kernel {
    private static final int BYTES = 2;

    @Override
    public Activations.Format activations() {
        return Activations.Format.F16;
    }

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int n = x.cols;
        float[] v = x.values;
        int xo = col * n;
        int blocks = n - n % 64;
        double sum = 0;
        if (blocks > 0) {
            FloatVector lo0 = FloatVector.zero(H), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
            for (int i = 0; i < blocks; i += 64) {
                long p = row + (long) BYTES * i;
                int xi = xo + i;
                lo0 = widen(w, p).fma(FloatVector.fromArray(H, v, xi), lo0);
                hi0 = widen(w, p + 16).fma(FloatVector.fromArray(H, v, xi + 8), hi0);
                lo1 = widen(w, p + 32).fma(FloatVector.fromArray(H, v, xi + 16), lo1);
                hi1 = widen(w, p + 48).fma(FloatVector.fromArray(H, v, xi + 24), hi1);
                lo2 = widen(w, p + 64).fma(FloatVector.fromArray(H, v, xi + 32), lo2);
                hi2 = widen(w, p + 80).fma(FloatVector.fromArray(H, v, xi + 40), hi2);
                lo3 = widen(w, p + 96).fma(FloatVector.fromArray(H, v, xi + 48), lo3);
                hi3 = widen(w, p + 112).fma(FloatVector.fromArray(H, v, xi + 56), hi3);
            }
            sum = LaneSums.sum16(lo0.add(lo2).add(lo1.add(lo3)), hi0.add(hi2).add(hi1.add(hi3)));
        }
        for (int i = blocks; i < n; i++) {
            sum += Float16s.toFloat(w.get(SHORT, row + (long) BYTES * i)) * v[xo + i];
        }
        return (float) sum;
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
            lo = widen(w, p).fma(FloatVector.fromArray(H, v, xo + i), lo);
            hi = widen(w, p + 16).fma(FloatVector.fromArray(H, v, xo + i + 8), hi);
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
            FloatVector wl = widen(w, p);
            FloatVector wh = widen(w, p + 16);
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

    /** Eight fp16 values at byte offset {@code p} as floats (see the class comment). */
    private static FloatVector widen(MemorySegment w, long p) {
        return ((IntVector) ShortVector.fromMemorySegment(HS, w, p, LE).convertShape(VectorOperators.S2I, HI, 0))
                .lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        for (int i = 0; i < cols; i++) {
            out[off + i] = Float16s.toFloat(w.get(SHORT, row + (long) BYTES * i));
        }
    }
}
