package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.kvcache.core.tensor.Lanes.FLOAT;
import static io.kvcache.core.tensor.Lanes.INT;
import static io.kvcache.core.tensor.Lanes.LE;
import static io.kvcache.core.tensor.Lanes.SHORT;

/**
 * A Q4_K matrix in {@link RowGroups} of 16 rows, summed as llama.cpp's repacked Q4_K kernels sum
 * (see {@link Q4KKernel}: its GEMV adds one integer per super-block to each row's accumulators,
 * its GEMM one per 64 values). Per group and super-block: d[16] and dmin[16] as floats, the 6-bit
 * scales as bytes [sub-block][row], the mins likewise, then the 128 packed bytes in pairs
 * ({@link #pairAt}; low nibble: value 64j+i of byte 32j+i, high nibble: value 64j+32+i, so the
 * low nibbles of a pair of bytes meet a pair of consecutive activation quants, as do the high ones).
 *
 * <p>Nibble times activation quant (at most 15*127) is formed in 16-bit lanes and the 16 of a lane
 * in a sub-block are added there (at most 30480, below 2^15), then widened once to 32 bits for the
 * sub-block's scale. The decoding is written out in each loop: a vector that crosses a call is boxed.
 */
final class Q4KRowGroups extends RowGroups {
    private static final int D = 0;
    private static final int DMIN = 64;
    private static final int SCALES = 128;
    private static final int MINS = 256;
    private static final int QS = 384;
    private static final int GROUP_BYTES = QS + 128 * ROWS;

    Q4KRowGroups(int rows, int cols) {
        super(GgmlType.Q4_K, rows, cols, GROUP_BYTES);
    }

    @Override
    Activations.Format activations() {
        return Activations.Format.Q8_K_PLAIN;
    }

    @Override
    void copyBlock(MemorySegment data, long src, long dst, int r) {
        groups.set(FLOAT, dst + D + 4 * r, Float16s.toFloat(data.get(SHORT, src)));
        groups.set(FLOAT, dst + DMIN + 4 * r, Float16s.toFloat(data.get(SHORT, src + 2)));
        int a = data.get(INT, src + 4);
        int m = data.get(INT, src + 8);
        int c = data.get(INT, src + 12);
        long scales = KScales.scales(a, m, c);
        long mins = KScales.mins(a, m, c);
        for (int j = 0; j < 8; j++) {
            groups.set(ValueLayout.JAVA_BYTE, dst + SCALES + ROWS * j + r, (byte) KScales.get(scales, j));
            groups.set(ValueLayout.JAVA_BYTE, dst + MINS + ROWS * j + r, (byte) KScales.get(mins, j));
        }
        for (int i = 0; i < 128; i++) {
            groups.set(ValueLayout.JAVA_BYTE, dst + QS + pairAt(i, r), data.get(ValueLayout.JAVA_BYTE, src + 16 + i));
        }
    }

    /** ggml_gemv_q4_K_8x8_q8_K: per row, d*d_x times one integer per super-block, minus the mins' share. */
    @Override
    void dot(int group, Activations x, int col, float[] out, int at) {
        MemorySegment w = groups;
        int[] pairs = x.pairs;
        int[] sums = x.sums;
        FloatVector acc = FloatVector.zero(F16);
        FloatVector accMin = FloatVector.zero(F16);
        long p = (long) group * blocks * GROUP_BYTES;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES) {
            int xb = col * cols + 256 * b;
            IntVector isum = IntVector.zero(I16);
            for (int j = 0; j < 4; j++) {
                ShortVector lo = ShortVector.zero(S32);
                ShortVector hi = ShortVector.zero(S32);
                long wq = p + QS + ROWS * 32 * j;
                int xl = (xb + 64 * j) / 2;
                for (int i = 0; i < 16; i++) {
                    ShortVector packed = (ShortVector) ByteVector.fromMemorySegment(B32, w, wq + 32 * i, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                    lo = packed.and((short) 0x0F).mul(IntVector.broadcast(I16, pairs[xl + i]).reinterpretAsShorts()).add(lo);
                    hi = packed.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I16, pairs[xl + 16 + i]).reinterpretAsShorts()).add(hi);
                }
                IntVector scaleLo = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * 2 * j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                IntVector scaleHi = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * j + 1), LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                IntVector loPairs = lo.reinterpretAsInts();
                IntVector hiPairs = hi.reinterpretAsInts();
                isum = loPairs.lanewise(VectorOperators.ASHR, 16).add(loPairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleLo).add(isum).add(hiPairs.lanewise(VectorOperators.ASHR, 16).add(hiPairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleHi));
            }
            IntVector minSum = IntVector.zero(I16);
            int g = xb / 16;
            for (int j = 0; j < 8; j++) {
                minSum = ((IntVector) ByteVector.fromMemorySegment(B16, w, p + MINS + ROWS * j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0)).mul(sums[g + j] + sums[g + 8 + j]).add(minSum);
            }
            float dx = x.scales[col * blocks + b];
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromMemorySegment(F16, w, p + D, LE).mul(dx), acc);
            accMin = ((FloatVector) minSum.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromMemorySegment(F16, w, p + DMIN, LE).mul(dx), accMin);
        }
        acc.sub(accMin).intoArray(out, at);
    }

    /** ggml_gemm_q4_K_8x8_q8_K for four input rows: per row and input, one integer per 64 values. */
    @Override
    void dot4(int group, Activations x, int col, float[] out, int at, int stride) {
        MemorySegment w = groups;
        int[] pairs = x.pairs;
        int[] sums = x.sums;
        float[] xs = x.scales;
        int gn = cols / 16;
        int pn = cols / 2;
        FloatVector acc0 = FloatVector.zero(F16);
        FloatVector acc1 = FloatVector.zero(F16);
        FloatVector acc2 = FloatVector.zero(F16);
        FloatVector acc3 = FloatVector.zero(F16);
        FloatVector min0 = FloatVector.zero(F16);
        FloatVector min1 = FloatVector.zero(F16);
        FloatVector min2 = FloatVector.zero(F16);
        FloatVector min3 = FloatVector.zero(F16);
        long p = (long) group * blocks * GROUP_BYTES;
        for (int b = 0; b < blocks; b++, p += GROUP_BYTES) {
            int x0 = col * cols + 256 * b;
            int s = col * blocks + b;
            FloatVector d = FloatVector.fromMemorySegment(F16, w, p + D, LE);
            FloatVector dmin = FloatVector.fromMemorySegment(F16, w, p + DMIN, LE);
            for (int j = 0; j < 4; j++) {
                ShortVector lo0 = ShortVector.zero(S32);
                ShortVector lo1 = ShortVector.zero(S32);
                ShortVector lo2 = ShortVector.zero(S32);
                ShortVector lo3 = ShortVector.zero(S32);
                ShortVector hi0 = ShortVector.zero(S32);
                ShortVector hi1 = ShortVector.zero(S32);
                ShortVector hi2 = ShortVector.zero(S32);
                ShortVector hi3 = ShortVector.zero(S32);
                long wq = p + QS + ROWS * 32 * j;
                int xl = (x0 + 64 * j) / 2;
                for (int i = 0; i < 16; i++) {
                    ShortVector packed = (ShortVector) ByteVector.fromMemorySegment(B32, w, wq + 32 * i, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                    ShortVector wl = packed.and((short) 0x0F);
                    ShortVector wh = packed.lanewise(VectorOperators.LSHR, 4);
                    int k = xl + i;
                    lo0 = wl.mul(IntVector.broadcast(I16, pairs[k]).reinterpretAsShorts()).add(lo0);
                    hi0 = wh.mul(IntVector.broadcast(I16, pairs[k + 16]).reinterpretAsShorts()).add(hi0);
                    k += pn;
                    lo1 = wl.mul(IntVector.broadcast(I16, pairs[k]).reinterpretAsShorts()).add(lo1);
                    hi1 = wh.mul(IntVector.broadcast(I16, pairs[k + 16]).reinterpretAsShorts()).add(hi1);
                    k += pn;
                    lo2 = wl.mul(IntVector.broadcast(I16, pairs[k]).reinterpretAsShorts()).add(lo2);
                    hi2 = wh.mul(IntVector.broadcast(I16, pairs[k + 16]).reinterpretAsShorts()).add(hi2);
                    k += pn;
                    lo3 = wl.mul(IntVector.broadcast(I16, pairs[k]).reinterpretAsShorts()).add(lo3);
                    hi3 = wh.mul(IntVector.broadcast(I16, pairs[k + 16]).reinterpretAsShorts()).add(hi3);
                }
                IntVector scaleLo = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * 2 * j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                IntVector scaleHi = (IntVector) ByteVector.fromMemorySegment(B16, w, p + SCALES + ROWS * (2 * j + 1), LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                IntVector lp0 = lo0.reinterpretAsInts();
                IntVector hp0 = hi0.reinterpretAsInts();
                acc0 = ((FloatVector) lp0.lanewise(VectorOperators.ASHR, 16).add(lp0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleLo).add(hp0.lanewise(VectorOperators.ASHR, 16).add(hp0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleHi))
                        .convert(VectorOperators.I2F, 0)).fma(d.mul(xs[s]), acc0);
                IntVector lp1 = lo1.reinterpretAsInts();
                IntVector hp1 = hi1.reinterpretAsInts();
                acc1 = ((FloatVector) lp1.lanewise(VectorOperators.ASHR, 16).add(lp1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleLo).add(hp1.lanewise(VectorOperators.ASHR, 16).add(hp1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleHi))
                        .convert(VectorOperators.I2F, 0)).fma(d.mul(xs[s + blocks]), acc1);
                IntVector lp2 = lo2.reinterpretAsInts();
                IntVector hp2 = hi2.reinterpretAsInts();
                acc2 = ((FloatVector) lp2.lanewise(VectorOperators.ASHR, 16).add(lp2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleLo).add(hp2.lanewise(VectorOperators.ASHR, 16).add(hp2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleHi))
                        .convert(VectorOperators.I2F, 0)).fma(d.mul(xs[s + 2 * blocks]), acc2);
                IntVector lp3 = lo3.reinterpretAsInts();
                IntVector hp3 = hi3.reinterpretAsInts();
                acc3 = ((FloatVector) lp3.lanewise(VectorOperators.ASHR, 16).add(lp3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleLo).add(hp3.lanewise(VectorOperators.ASHR, 16).add(hp3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scaleHi))
                        .convert(VectorOperators.I2F, 0)).fma(d.mul(xs[s + 3 * blocks]), acc3);
                IntVector minLo = (IntVector) ByteVector.fromMemorySegment(B16, w, p + MINS + ROWS * 2 * j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                IntVector minHi = (IntVector) ByteVector.fromMemorySegment(B16, w, p + MINS + ROWS * (2 * j + 1), LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                // Sub-block k's quant sum is sums[k] + sums[k+8] of its 256-block (see Activations#sums).
                int k = x0 / 16 + 2 * j;
                min0 = ((FloatVector) minLo.mul(sums[k] + sums[k + 8]).add(minHi.mul(sums[k + 1] + sums[k + 9]))
                        .convert(VectorOperators.I2F, 0)).fma(dmin.mul(xs[s]), min0);
                k += gn;
                min1 = ((FloatVector) minLo.mul(sums[k] + sums[k + 8]).add(minHi.mul(sums[k + 1] + sums[k + 9]))
                        .convert(VectorOperators.I2F, 0)).fma(dmin.mul(xs[s + blocks]), min1);
                k += gn;
                min2 = ((FloatVector) minLo.mul(sums[k] + sums[k + 8]).add(minHi.mul(sums[k + 1] + sums[k + 9]))
                        .convert(VectorOperators.I2F, 0)).fma(dmin.mul(xs[s + 2 * blocks]), min2);
                k += gn;
                min3 = ((FloatVector) minLo.mul(sums[k] + sums[k + 8]).add(minHi.mul(sums[k + 1] + sums[k + 9]))
                        .convert(VectorOperators.I2F, 0)).fma(dmin.mul(xs[s + 3 * blocks]), min3);
            }
        }
        acc0.sub(min0).intoArray(out, at);
        acc1.sub(min1).intoArray(out, at + stride);
        acc2.sub(min2).intoArray(out, at + 2 * stride);
        acc3.sub(min3).intoArray(out, at + 3 * stride);
    }
}
