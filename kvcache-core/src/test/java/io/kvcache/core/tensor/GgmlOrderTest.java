package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The quantized kernels against scalar restatements of the order in which llama.cpp's x86 CPU
 * backend (the build the reference outputs come from) sums their products, one float operation at
 * a time, on random blocks and Gaussian inputs: the results must be the same floats, bit for bit.
 * Integer sums are exact in any order; what is restated is where they become floats and how those
 * floats are added. Batches of 6 inputs cover both the four-row GEMM and the GEMV for the rest where
 * llama.cpp repacks the matrix (row count a multiple of 8).
 */
class GgmlOrderTest {
    private static final int COLS = 1024;

    /** Random blocks whose fp16 scales are finite and of realistic size. */
    /**
     * Random blocks, or with {@code saturated} every quant byte at the extreme that makes the
     * largest products with quants of -127 (Q8_0: -128; K-quants: all bits set, nibbles of 15 and
     * six-bit quants of 63), so 16-bit partial sums are at their bounds.
     */
    private static ByteBuffer randomBlocks(GgmlType type, int rows, Random random, boolean saturated) {
        ByteBuffer bytes = ByteBuffer.allocate((int) type.bytesFor((long) rows * COLS)).order(ByteOrder.LITTLE_ENDIAN);
        if (saturated) {
            Arrays.fill(bytes.array(), type == GgmlType.Q8_0 ? (byte) 0x80 : (byte) 0xFF);
        } else {
            random.nextBytes(bytes.array());
        }
        int[] scaleOffsets = switch (type) {
            case Q4_0, Q8_0 -> new int[] {0};
            case Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException(type.toString());
        };
        for (int block = 0; block < bytes.capacity(); block += type.blockBytes()) {
            for (int offset : scaleOffsets) {
                bytes.putShort(block + offset, Float16s.fromFloat(0.0005f + random.nextFloat() * 0.01f));
            }
        }
        return bytes;
    }

    /** One output: row {@code row} of the weights times input {@code x}, summed in ggml's order. */
    private interface Restated {
        float dot(ByteBuffer w, int row, ReferenceQuantizer.Quantized x, boolean inGemm);
    }

    private static void compare(GgmlType type, int rows, Restated reference) {
        compare(type, rows, reference, false);
    }

    /** With {@code saturated}, extreme weights (see {@link #randomBlocks}) times inputs of -1 (every quant -127). */
    private static void compare(GgmlType type, int rows, Restated reference, boolean saturated) {
        for (int batch : new int[] {1, 6}) {
            Random random = new Random(11 + rows + batch);
            ByteBuffer bytes = randomBlocks(type, rows, random, saturated);
            WeightMatrix matrix = WeightMatrix.of("random", type, rows, COLS, MatrixCheck.nativeCopy(bytes));
            float[] x = new float[batch * COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = saturated ? -1f : (float) random.nextGaussian();
            }
            float[] out = new float[batch * rows];
            try (ComputePool pool = new ComputePool(2)) {
                matrix.multiply(x, batch, out, pool);
            }
            boolean repacked = rows % 8 == 0 && (type == GgmlType.Q4_0 || type == GgmlType.Q4_K);
            for (int b = 0; b < batch; b++) {
                boolean inGemm = repacked && b < batch - batch % 4;
                ReferenceQuantizer.Quantized q = type == GgmlType.Q4_0 || type == GgmlType.Q8_0
                        ? ReferenceQuantizer.q8_0(x, b * COLS, COLS)
                        : ReferenceQuantizer.q8K(x, b * COLS, COLS, inGemm);
                for (int r = 0; r < rows; r++) {
                    float expected = reference.dot(bytes, r, q, inGemm);
                    assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(out[b * rows + r]),
                            type + " rows " + rows + " batch " + batch + " input " + b + " row " + r + ": "
                                    + expected + " vs " + out[b * rows + r]);
                }
            }
        }
    }

    /** hsum_float_8: lanes i and i+4, then i and i+2, then the last pair. */
    private static float hsum8(float[] lanes) {
        float[] v = lanes.clone();
        for (int i = 0; i < 4; i++) {
            v[i] += v[i + 4];
        }
        return (v[0] + v[2]) + (v[1] + v[3]);
    }

    private static int u8(ByteBuffer w, int at) {
        return w.get(at) & 0xFF;
    }

    private static float fp16(ByteBuffer w, int at) {
        return Float16s.toFloat(w.getShort(at));
    }

    /** Scale (0..7) or min (8..15) j of the 12 packed bytes at {@code at} (ggml's get_scale_min_k4). */
    private static int scaleMin(ByteBuffer w, int at, int j) {
        boolean min = j >= 8;
        j %= 8;
        if (j < 4) {
            return u8(w, at + j + (min ? 4 : 0)) & 63;
        }
        int low = min ? u8(w, at + j + 4) >> 4 : u8(w, at + j + 4) & 0xF;
        return low | (u8(w, at + j - 4 + (min ? 4 : 0)) >> 6) << 4;
    }

    /** The 4-bit (Q4_K) or 5-bit (Q5_K) quant e (0..255) of the super-block at p. */
    private static int kQuant(ByteBuffer w, int p, int e, boolean fifthBit) {
        int qs = p + (fifthBit ? 48 : 16);
        int packed = u8(w, qs + 32 * (e / 64) + e % 32);
        int q = (e % 64 < 32) ? packed & 0xF : packed >> 4;
        return fifthBit ? q | (u8(w, p + 16 + e % 32) >> (e / 32) & 1) << 4 : q;
    }

    /** ggml_vec_dot_q6_K_q8_K: lanes of scale*q6*q_x (q6 unsigned) less 32*scale*bsum per lane pair of groups. */
    private static float q6K(ByteBuffer w, int row, ReferenceQuantizer.Quantized x, boolean inGemm) {
        int blocks = COLS / 256;
        float[] acc = new float[8];
        for (int b = 0; b < blocks; b++) {
            int p = (row * blocks + b) * 210;
            int[] lanes = new int[8];
            for (int e = 0; e < 256; e++) {
                int h = e / 128;
                int i = e % 32;
                int j = e % 128 / 32;
                int ql = u8(w, p + 64 * h + 32 * (j & 1) + i);
                int q = (j < 2 ? ql : ql >> 4) & 0xF | (u8(w, p + 128 + 32 * h + i) >> (2 * j) & 3) << 4;
                lanes[i / 4] += w.get(p + 192 + e / 16) * q * x.q()[256 * b + e];
            }
            for (int t = 0; t < 8; t++) {
                lanes[t] -= 32 * (w.get(p + 192 + 2 * t) * x.sum16(16 * b + 2 * t)
                        + w.get(p + 193 + 2 * t) * x.sum16(16 * b + 2 * t + 1));
            }
            float d = x.d()[b] * fp16(w, p + 208);
            for (int t = 0; t < 8; t++) {
                acc[t] = Math.fma(d, (float) lanes[t], acc[t]);
            }
        }
        return hsum8(acc);
    }

    /** ggml_vec_dot_q5_K_q8_K: 8 lanes of scale*q*q_x, and the mins as one fused scalar. */
    private static float q5K(ByteBuffer w, int row, ReferenceQuantizer.Quantized x, boolean inGemm) {
        int blocks = COLS / 256;
        float[] acc = new float[8];
        float summs = 0;
        for (int b = 0; b < blocks; b++) {
            int p = (row * blocks + b) * 176;
            int[] lanes = new int[8];
            for (int e = 0; e < 256; e++) {
                lanes[e % 32 / 4] += scaleMin(w, p + 4, e / 32) * kQuant(w, p, e, true) * x.q()[256 * b + e];
            }
            int mins = 0;
            for (int j = 0; j < 8; j++) {
                mins += scaleMin(w, p + 4, 8 + j) * (x.sum16(16 * b + 2 * j) + x.sum16(16 * b + 2 * j + 1));
            }
            float d = x.d()[b] * fp16(w, p);
            float dmin = -x.d()[b] * fp16(w, p + 2);
            for (int t = 0; t < 8; t++) {
                acc[t] = Math.fma(d, (float) lanes[t], acc[t]);
            }
            summs = Math.fma(dmin, (float) mins, summs);
        }
        return hsum8(acc) + summs;
    }

    /** ggml_vec_dot_q4_K_q8_K: 8 lanes of scale*q*q_x, the mins in 4 lanes. */
    private static float q4K(ByteBuffer w, int row, ReferenceQuantizer.Quantized x, boolean inGemm) {
        int blocks = COLS / 256;
        float[] acc = new float[8];
        float[] accMin = new float[4];
        for (int b = 0; b < blocks; b++) {
            int p = (row * blocks + b) * 144;
            int[] lanes = new int[8];
            for (int e = 0; e < 256; e++) {
                lanes[e % 32 / 4] += scaleMin(w, p + 4, e / 32) * kQuant(w, p, e, false) * x.q()[256 * b + e];
            }
            float d = x.d()[b] * fp16(w, p);
            float dmin = -x.d()[b] * fp16(w, p + 2);
            for (int t = 0; t < 8; t++) {
                acc[t] = Math.fma(d, (float) lanes[t], acc[t]);
            }
            for (int i = 0; i < 4; i++) {
                int prod = 0;
                for (int j = 2 * i; j < 2 * i + 2; j++) {
                    prod += scaleMin(w, p + 4, 8 + j) * (x.sum16(16 * b + 2 * j) + x.sum16(16 * b + 2 * j + 1));
                }
                accMin[i] = Math.fma(dmin, (float) prod, accMin[i]);
            }
        }
        return hsum8(acc) + ((accMin[0] + accMin[2]) + (accMin[1] + accMin[3]));
    }

    /**
     * ggml_gemv/gemm_q4_K_8x8_q8_K: two accumulators per row, d*scale*q*q_x and dmin*min*xsum, each
     * taking one integer per super-block (GEMV) or per 64 values (GEMM), their difference returned.
     */
    private static float q4KRepacked(ByteBuffer w, int row, ReferenceQuantizer.Quantized x, boolean inGemm) {
        int blocks = COLS / 256;
        int step = inGemm ? 64 : 256;
        float acc = 0;
        float accMin = 0;
        for (int b = 0; b < blocks; b++) {
            int p = (row * blocks + b) * 144;
            float d = fp16(w, p) * x.d()[b];
            float dmin = fp16(w, p + 2) * x.d()[b];
            for (int from = 0; from < 256; from += step) {
                int isum = 0;
                int imin = 0;
                for (int e = from; e < from + step; e++) {
                    isum += scaleMin(w, p + 4, e / 32) * kQuant(w, p, e, false) * x.q()[256 * b + e];
                }
                for (int j = from / 32; j < (from + step) / 32; j++) {
                    imin += scaleMin(w, p + 4, 8 + j) * (x.sum16(16 * b + 2 * j) + x.sum16(16 * b + 2 * j + 1));
                }
                acc = Math.fma((float) isum, d, acc);
                accMin = Math.fma((float) imin, dmin, accMin);
            }
        }
        return acc - accMin;
    }

    /** ggml_gemv/gemm_q4_0_8x8_q8_0: one accumulator per row, one integer per block. */
    private static float q4_0Repacked(ByteBuffer w, int row, ReferenceQuantizer.Quantized x, boolean inGemm) {
        int blocks = COLS / 32;
        float acc = 0;
        for (int b = 0; b < blocks; b++) {
            int p = (row * blocks + b) * 18;
            int isum = 0;
            for (int i = 0; i < 16; i++) {
                int packed = u8(w, p + 2 + i);
                isum += ((packed & 0xF) - 8) * x.q()[32 * b + i] + ((packed >> 4) - 8) * x.q()[32 * b + 16 + i];
            }
            acc = Math.fma((float) isum, fp16(w, p) * x.d()[b], acc);
        }
        return acc;
    }

    /** ggml_vec_dot_q4_0_q8_0 (AVX2): 8 lanes of 4 consecutive products, one fused multiply-add per block. */
    private static float q4_0(ByteBuffer w, int row, ReferenceQuantizer.Quantized x, boolean inGemm) {
        int blocks = COLS / 32;
        float[] acc = new float[8];
        for (int b = 0; b < blocks; b++) {
            int p = (row * blocks + b) * 18;
            int[] lanes = new int[8];
            for (int i = 0; i < 32; i++) {
                int packed = u8(w, p + 2 + i % 16);
                int q = (i < 16 ? packed & 0xF : packed >> 4) - 8;
                lanes[i / 4] += q * x.q()[32 * b + i];
            }
            float d = fp16(w, p) * x.d()[b];
            for (int t = 0; t < 8; t++) {
                acc[t] = Math.fma(d, (float) lanes[t], acc[t]);
            }
        }
        return hsum8(acc);
    }

    /** ggml_vec_dot_q8_0_q8_0 (AVX2): lane t holds the integer sum of products 4t..4t+3 of each block. */
    private static float q8_0(ByteBuffer w, int row, ReferenceQuantizer.Quantized x, boolean inGemm) {
        int blocks = COLS / 32;
        float[] acc = new float[8];
        for (int b = 0; b < blocks; b++) {
            int p = (row * blocks + b) * 34;
            float d = fp16(w, p) * x.d()[b];
            for (int t = 0; t < 8; t++) {
                int sum = 0;
                for (int k = 0; k < 4; k++) {
                    sum += w.get(p + 2 + 4 * t + k) * x.q()[32 * b + 4 * t + k];
                }
                acc[t] = Math.fma((float) sum, d, acc[t]);
            }
        }
        return hsum8(acc);
    }

    // Rows in whole groups of 16 take the row-group kernels (RowGroups), the last rows % 16 and
    // matrices of fewer than 16 rows the per-row ones (20 rows: one group and 4 rows, 24: one group
    // and 8); both must sum as ggml does.

    @Test
    void q8_0SumsAsVecDot() {
        compare(GgmlType.Q8_0, 32, GgmlOrderTest::q8_0);
        compare(GgmlType.Q8_0, 20, GgmlOrderTest::q8_0);
        compare(GgmlType.Q8_0, 12, GgmlOrderTest::q8_0);
    }

    @Test
    void q6KSumsAsVecDot() {
        compare(GgmlType.Q6_K, 16, GgmlOrderTest::q6K);
        compare(GgmlType.Q6_K, 20, GgmlOrderTest::q6K);
        compare(GgmlType.Q6_K, 12, GgmlOrderTest::q6K);
    }

    @Test
    void q5KSumsAsVecDot() {
        compare(GgmlType.Q5_K, 16, GgmlOrderTest::q5K);
    }

    @Test
    void q4KSumsAsRepackedGemvAndGemm() {
        compare(GgmlType.Q4_K, 16, GgmlOrderTest::q4KRepacked);
        compare(GgmlType.Q4_K, 24, GgmlOrderTest::q4KRepacked);
    }

    @Test
    void q4KWithRowsNotAMultipleOf8SumsAsVecDot() {
        compare(GgmlType.Q4_K, 12, GgmlOrderTest::q4K);
        compare(GgmlType.Q4_K, 20, GgmlOrderTest::q4K);
    }

    @Test
    void saturatedQuantsSumAsGgmlInTheRowGroupKernels() {
        compare(GgmlType.Q8_0, 16, GgmlOrderTest::q8_0, true);
        compare(GgmlType.Q4_K, 16, GgmlOrderTest::q4KRepacked, true);
        compare(GgmlType.Q6_K, 16, GgmlOrderTest::q6K, true);
    }

    @Test
    void q4_0SumsAsRepackedGemvAndGemm() {
        compare(GgmlType.Q4_0, 16, GgmlOrderTest::q4_0Repacked);
    }

    @Test
    void q4_0WithRowsNotAMultipleOf8SumsAsVecDot() {
        compare(GgmlType.Q4_0, 12, GgmlOrderTest::q4_0);
    }
}
