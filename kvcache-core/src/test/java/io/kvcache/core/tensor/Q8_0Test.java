package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

class Q8_0Test {

    @Test
    void handBuiltBlocks() {
        int rows = 3;
        int cols = 96;
        // Block scales 1, 0.5, 0.25, 0.125 as fp16 bit patterns.
        short[] scaleBits = {0x3C00, 0x3800, 0x3400, 0x3000};
        double[] scales = {1, 0.5, 0.25, 0.125};
        ByteBuffer bytes = MatrixCheck.blocks(GgmlType.Q8_0, rows, cols);
        double[][] expected = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / 32; b++) {
                int s = (r + b) % 4;
                bytes.putShort(scaleBits[s]);
                for (int i = 0; i < 32; i++) {
                    int q = (i * 7 + r * 13 + b * 5) % 255 - 127;
                    bytes.put((byte) q);
                    expected[r][32 * b + i] = scales[s] * q;
                }
            }
        }
        MatrixCheck.check(GgmlType.Q8_0, bytes, expected);
        MatrixCheck.checkHeapSegment(GgmlType.Q8_0, bytes, rows, cols);
    }
}
