package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

class FloatTypesTest {
    // 37 columns: not a multiple of the vector length, so the scalar tails run too.
    private static final int ROWS = 5;
    private static final int COLS = 37;

    /** Values with few significant bits, exact in fp16 and bf16: (k - 40) / 8. */
    private static double value(int r, int c) {
        return ((r * 31 + c * 7) % 81 - 40) / 8.0;
    }

    private static double[][] expected() {
        double[][] w = new double[ROWS][COLS];
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLS; c++) {
                w[r][c] = value(r, c);
            }
        }
        return w;
    }

    @Test
    void f32() {
        ByteBuffer bytes = MatrixCheck.blocks(GgmlType.F32, ROWS, COLS);
        for (double[] row : expected()) {
            for (double v : row) {
                bytes.putFloat((float) v);
            }
        }
        MatrixCheck.check(GgmlType.F32, bytes, expected());
        MatrixCheck.checkHeapSegment(GgmlType.F32, bytes, ROWS, COLS);
    }

    @Test
    void f16() {
        ByteBuffer bytes = MatrixCheck.blocks(GgmlType.F16, ROWS, COLS);
        for (double[] row : expected()) {
            for (double v : row) {
                // fp16 by hand: v = k/8 with |k| <= 40 is normal; sign, 5-bit exponent (bias 15), 10-bit mantissa.
                bytes.putShort(fp16(v));
            }
        }
        MatrixCheck.check(GgmlType.F16, bytes, expected());
    }

    @Test
    void f16Subnormals() {
        // 2^-24 (smallest subnormal), 3 * 2^-20 (subnormal), -0, and -2^-14 (smallest normal, negative).
        short[] bits = {0x0001, 0x0030, (short) 0x8000, (short) 0x8400};
        double[] values = {0x1p-24, 3 * 0x1p-20, -0.0, -0x1p-14};
        ByteBuffer bytes = MatrixCheck.blocks(GgmlType.F16, 1, 16);
        double[][] expected = new double[1][16];
        for (int i = 0; i < 16; i++) {
            bytes.putShort(bits[i % 4]);
            expected[0][i] = values[i % 4];
        }
        MatrixCheck.check(GgmlType.F16, bytes, expected);
    }

    @Test
    void bf16() {
        ByteBuffer bytes = MatrixCheck.blocks(GgmlType.BF16, ROWS, COLS);
        for (double[] row : expected()) {
            for (double v : row) {
                // bf16 by hand: the upper half of the float bits (exact for these values).
                bytes.putShort((short) (Float.floatToRawIntBits((float) v) >>> 16));
            }
        }
        MatrixCheck.check(GgmlType.BF16, bytes, expected());
    }

    private static short fp16(double v) {
        if (v == 0) {
            return 0;
        }
        int sign = v < 0 ? 0x8000 : 0;
        double a = Math.abs(v);
        int exponent = Math.getExponent(a);
        int mantissa = (int) Math.round((a / Math.scalb(1.0, exponent) - 1) * 1024);
        return (short) (sign | (exponent + 15) << 10 | mantissa);
    }
}
