package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.kvcache.core.tensor.Lanes.H;
import static io.kvcache.core.tensor.Lanes.HI;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * BF16 weights times activations rounded to bf16 (bf16 bits are the upper half of a float), summed
 * as ggml does with AVX512-BF16: VDPBF16PS adds to lane j of a 16-lane float register the products
 * of values 2j+1 and then 2j of a 32-value chunk, each added with its own rounding (products of
 * two bf16 values are exact in float).
 * <ul>
 *   <li>one input row (ggml_vec_dot_bf16): two registers take alternate 32-value chunks of each 64;
 *       each is reduced across lanes and added to a double, as is every value of the rest
 *       (cols % 64);</li>
 *   <li>a batch (llamafile's tinyBLAS, used when rows % 4 == 0 and cols % 32 == 0): one register
 *       per output over all chunks, reduced across lanes.</li>
 * </ul>
 * A 16-lane register is two 8-lane halves (see {@link Lanes#H}). The activations hold each chunk as
 * its even values then its odd ones (see {@link Activations.Format#BF16}); the weights are split
 * the same way from the 32-bit pairs they form in memory.
 */
final class BF16Kernel implements Kernel {
    private static final int BYTES = 2;

    @Override
    public Activations.Format activations() {
        return Activations.Format.BF16;
    }

    // The decoding is written out in each loop: C2 does not reliably inline helpers that return
    // vectors, and a vector that crosses a call is boxed.

    @Override
    public float dot(MemorySegment w, long row, Activations x, int col) {
        int n = x.cols;
        float[] v = x.values;
        int xo = col * n;
        int blocks = n - n % 64;
        double sum = 0;
        if (blocks > 0) {
            FloatVector lo1 = FloatVector.zero(H), hi1 = lo1, lo2 = lo1, hi2 = lo1;
            for (int i = 0; i < blocks; i += 64) {
                long p = row + (long) BYTES * i;
                int xi = xo + i;
                IntVector a = IntVector.fromMemorySegment(HI, w, p, LE);
                IntVector b = IntVector.fromMemorySegment(HI, w, p + 32, LE);
                IntVector c = IntVector.fromMemorySegment(HI, w, p + 64, LE);
                IntVector d = IntVector.fromMemorySegment(HI, w, p + 96, LE);
                lo1 = a.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 16), lo1);
                lo1 = a.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi), lo1);
                hi1 = b.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 24), hi1);
                hi1 = b.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 8), hi1);
                lo2 = c.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 48), lo2);
                lo2 = c.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 32), lo2);
                hi2 = d.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 56), hi2);
                hi2 = d.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 40), hi2);
            }
            sum = LaneSums.sum16(lo1, hi1);
            sum += LaneSums.sum16(lo2, hi2);
        }
        for (int i = blocks; i < n; i++) {
            sum += BFloat16s.toFloat(w.get(SHORT, row + (long) BYTES * i)) * v[xo + position(i, n)];
        }
        return (float) sum;
    }

    /** Where value {@code i} of a row of {@code n} lies in the activation layout. */
    private static int position(int i, int n) {
        int chunk = i - i % 32;
        if (chunk + 32 > n) {
            return i;
        }
        int j = i % 32;
        return chunk + (j % 2 == 0 ? j / 2 : 16 + j / 2);
    }

    @Override
    public boolean batchOrder(int rows, int cols) {
        return rows % 4 == 0 && cols % 32 == 0;
    }

    @Override
    public float batchDot(MemorySegment w, long row, Activations x, int col) {
        int n = x.cols;
        float[] v = x.values;
        int xo = col * n;
        FloatVector lo = FloatVector.zero(H);
        FloatVector hi = FloatVector.zero(H);
        for (int i = 0; i < n; i += 32) {
            long p = row + (long) BYTES * i;
            int xi = xo + i;
            IntVector a = IntVector.fromMemorySegment(HI, w, p, LE);
            IntVector b = IntVector.fromMemorySegment(HI, w, p + 32, LE);
            lo = a.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 16), lo);
            lo = a.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi), lo);
            hi = b.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 24), hi);
            hi = b.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(H, v, xi + 8), hi);
        }
        return LaneSums.sum16(lo, hi);
    }

    @Override
    public void dot4(MemorySegment w, long row, Activations x, int col, float[] out, int at, int stride) {
        int n = x.cols;
        float[] v = x.values;
        int x0 = col * n;
        FloatVector lo0 = FloatVector.zero(H), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
        for (int i = 0; i < n; i += 32) {
            long p = row + (long) BYTES * i;
            IntVector a = IntVector.fromMemorySegment(HI, w, p, LE);
            IntVector b = IntVector.fromMemorySegment(HI, w, p + 32, LE);
            FloatVector aOdd = a.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector aEven = a.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector bOdd = b.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector bEven = b.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            int xi = x0 + i;
            lo0 = aEven.fma(FloatVector.fromArray(H, v, xi), aOdd.fma(FloatVector.fromArray(H, v, xi + 16), lo0));
            hi0 = bEven.fma(FloatVector.fromArray(H, v, xi + 8), bOdd.fma(FloatVector.fromArray(H, v, xi + 24), hi0));
            xi += n;
            lo1 = aEven.fma(FloatVector.fromArray(H, v, xi), aOdd.fma(FloatVector.fromArray(H, v, xi + 16), lo1));
            hi1 = bEven.fma(FloatVector.fromArray(H, v, xi + 8), bOdd.fma(FloatVector.fromArray(H, v, xi + 24), hi1));
            xi += n;
            lo2 = aEven.fma(FloatVector.fromArray(H, v, xi), aOdd.fma(FloatVector.fromArray(H, v, xi + 16), lo2));
            hi2 = bEven.fma(FloatVector.fromArray(H, v, xi + 8), bOdd.fma(FloatVector.fromArray(H, v, xi + 24), hi2));
            xi += n;
            lo3 = aEven.fma(FloatVector.fromArray(H, v, xi), aOdd.fma(FloatVector.fromArray(H, v, xi + 16), lo3));
            hi3 = bEven.fma(FloatVector.fromArray(H, v, xi + 8), bOdd.fma(FloatVector.fromArray(H, v, xi + 24), hi3));
        }
        out[at] = LaneSums.sum16(lo0, hi0);
        out[at + stride] = LaneSums.sum16(lo1, hi1);
        out[at + 2 * stride] = LaneSums.sum16(lo2, hi2);
        out[at + 3 * stride] = LaneSums.sum16(lo3, hi3);
    }

    @Override
    public void readRow(MemorySegment w, long row, int cols, float[] out, int off) {
        for (int i = 0; i < cols; i++) {
            out[off + i] = BFloat16s.toFloat(w.get(SHORT, row + (long) BYTES * i));
        }
    }
}
