package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

class Q4_0Test {

    @Test
    void handBuiltBlocks() {
        check(3);
    }

    /** 8 rows: the matrix llama.cpp repacks, multiplied in its repacked GEMV/GEMM order. */
    @Test
    void handBuiltBlocksRepacked() {
        check(8);
    }

    private static void check(int rows) {
        int cols = 64;
        // Block scales 2, 0.5, -0.25 as fp16 bit patterns.
        short[] scaleBits = {0x4000, 0x3800, (short) 0xB400};
        double[] scales = {2, 0.5, -0.25};
        ByteBuffer bytes = MatrixCheck.blocks(GgmlType.Q4_0, rows, cols);
        double[][] expected = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / 32; b++) {
                int s = (r + 2 * b) % 3;
                bytes.putShort(scaleBits[s]);
                for (int i = 0; i < 16; i++) {
                    int lowNibble = (i + r + b) % 16;          // value i
                    int highNibble = (3 * i + 5 * r + b) % 16;  // value 16 + i
                    bytes.put((byte) (lowNibble | highNibble << 4));
                    expected[r][32 * b + i] = scales[s] * (lowNibble - 8);
                    expected[r][32 * b + 16 + i] = scales[s] * (highNibble - 8);
                }
            }
        }
        MatrixCheck.check(GgmlType.Q4_0, bytes, expected);
        MatrixCheck.checkHeapSegment(GgmlType.Q4_0, bytes, rows, cols);
    }
}
