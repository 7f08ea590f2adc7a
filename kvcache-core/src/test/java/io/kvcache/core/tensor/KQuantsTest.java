package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

/**
 * Hand-packed K-quant super-blocks: the test chooses every quant, scale and min, packs them as the
 * ggml block layouts describe, and expects value = d*scale*q - dmin*min (Q4_K, Q5_K) or
 * d*scale*(q-32) (Q6_K). Scales are powers of two so the expected values are exact.
 */
class KQuantsTest {
    private static final int ROWS = 3;
    private static final int COLS = 512;
    private static final short[] D_BITS = {0x3C00, 0x3800, 0x3400};   // 1, 0.5, 0.25
    private static final double[] D = {1, 0.5, 0.25};
    private static final short[] DMIN_BITS = {0x3000, 0x2C00, 0x3800}; // 0.125, 0.0625, 0.5
    private static final double[] DMIN = {0.125, 0.0625, 0.5};

    /** 6-bit scales and mins, over the whole range so that the high bits of sub-blocks 4..7 are used. */
    private static int scale(int r, int b, int j) {
        return (7 * j + 13 * b + 5 * r + 50) % 64;
    }

    private static int min(int r, int b, int j) {
        return (11 * j + 3 * b + 17 * r + 30) % 64;
    }

    /** The 12 packed bytes: sub-blocks 0..3 in the low 6 bits of bytes 0..3 (scale) and 4..7 (min);
     *  sub-blocks 4..7 split into low 4 bits in bytes 8..11 (scale low nibble, min high nibble) and
     *  high 2 bits in the top bits of bytes 0..3 (scale) and 4..7 (min). */
    private static byte[] packScales(int[] sc, int[] m) {
        byte[] q = new byte[12];
        for (int j = 0; j < 4; j++) {
            q[j] = (byte) (sc[j] | (sc[j + 4] >> 4) << 6);
            q[j + 4] = (byte) (m[j] | (m[j + 4] >> 4) << 6);
            q[j + 8] = (byte) ((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4);
        }
        return q;
    }

    private static int quant(int r, int e, int bits) {
        return (e * 5 + r * 7 + e / 37) % (1 << bits);
    }

    @Test
    void q4K() {
        check(GgmlType.Q4_K, 4, ROWS);
    }

    /** 8 rows: the matrix llama.cpp repacks, multiplied in its repacked GEMV/GEMM order. */
    @Test
    void q4KRepacked() {
        check(GgmlType.Q4_K, 4, 8);
    }

    @Test
    void q5K() {
        check(GgmlType.Q5_K, 5, ROWS);
    }

    private static void check(GgmlType type, int bits, int rows) {
        ByteBuffer bytes = MatrixCheck.blocks(type, rows, COLS);
        double[][] expected = new double[rows][COLS];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < COLS / 256; b++) {
                int k = (r + b) % 3;
                int[] sc = new int[8];
                int[] m = new int[8];
                for (int j = 0; j < 8; j++) {
                    sc[j] = scale(r, b, j);
                    m[j] = min(r, b, j);
                }
                int[] q = new int[256];
                for (int e = 0; e < 256; e++) {
                    q[e] = quant(r, 256 * b + e, bits);
                    expected[r][256 * b + e] = D[k] * sc[e / 32] * q[e] - DMIN[k] * m[e / 32];
                }
                bytes.putShort(D_BITS[k]).putShort(DMIN_BITS[k]).put(packScales(sc, m));
                if (type == GgmlType.Q5_K) {
                    // qh[i]: bit s is the fifth bit of value i of sub-block s.
                    for (int i = 0; i < 32; i++) {
                        int qh = 0;
                        for (int s = 0; s < 8; s++) {
                            qh |= (q[32 * s + i] >> 4 & 1) << s;
                        }
                        bytes.put((byte) qh);
                    }
                }
                // qs: byte 32c+i holds value 64c+i (low nibble) and 64c+32+i (high nibble).
                for (int c = 0; c < 4; c++) {
                    for (int i = 0; i < 32; i++) {
                        bytes.put((byte) ((q[64 * c + i] & 0xF) | (q[64 * c + 32 + i] & 0xF) << 4));
                    }
                }
            }
        }
        MatrixCheck.check(type, bytes, expected);
        MatrixCheck.checkHeapSegment(type, bytes, rows, COLS);
    }

    @Test
    void q6K() {
        ByteBuffer bytes = MatrixCheck.blocks(GgmlType.Q6_K, ROWS, COLS);
        double[][] expected = new double[ROWS][COLS];
        for (int r = 0; r < ROWS; r++) {
            for (int b = 0; b < COLS / 256; b++) {
                int k = (r + b) % 3;
                int[] q = new int[256];
                int[] sc = new int[16];
                for (int s = 0; s < 16; s++) {
                    sc[s] = (s * 37 + r * 11 + b * 101) % 256 - 128; // int8, negative ones included
                }
                for (int e = 0; e < 256; e++) {
                    q[e] = quant(r, 256 * b + e, 6);
                    expected[r][256 * b + e] = D[k] * sc[e / 16] * (q[e] - 32);
                }
                // ql[64h+i]: value 128h+i (low nibble), 128h+64+i (high); ql[64h+32+i]: 128h+32+i, 128h+96+i.
                for (int h = 0; h < 2; h++) {
                    for (int i = 0; i < 64; i++) {
                        int e = 128 * h + i;
                        bytes.put((byte) ((q[e] & 0xF) | (q[e + 64] & 0xF) << 4));
                    }
                }
                // qh[32h+i]: the high 2 bits of values 128h+i, +32, +64, +96 in bit pairs 0-1, 2-3, 4-5, 6-7.
                for (int h = 0; h < 2; h++) {
                    for (int i = 0; i < 32; i++) {
                        int e = 128 * h + i;
                        bytes.put((byte) ((q[e] >> 4) | (q[e + 32] >> 4) << 2 | (q[e + 64] >> 4) << 4 | (q[e + 96] >> 4) << 6));
                    }
                }
                for (int s = 0; s < 16; s++) {
                    bytes.put((byte) sc[s]);
                }
                bytes.putShort(D_BITS[k]);
            }
        }
        MatrixCheck.check(GgmlType.Q6_K, bytes, expected);
        MatrixCheck.checkHeapSegment(GgmlType.Q6_K, bytes, ROWS, COLS);
    }
}
