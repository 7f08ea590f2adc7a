package io.kvcache.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Checks a hand-built matrix against the values the test computed from the format definition:
 * readRow and Dequantize must give them exactly, and multiply (for several batch sizes and thread
 * counts) must give their dot products with inputs that every activation format represents exactly.
 */
final class MatrixCheck {
    private MatrixCheck() {
    }

    /** A little-endian byte buffer to write blocks into. */
    static ByteBuffer blocks(GgmlType type, int rows, int cols) {
        return ByteBuffer.allocate((int) type.bytesFor((long) rows * cols)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The bytes in native memory, like a mapped file. */
    static MemorySegment nativeCopy(ByteBuffer bytes) {
        MemorySegment segment = Arena.ofAuto().allocate(bytes.capacity(), 64);
        segment.copyFrom(MemorySegment.ofArray(bytes.array()));
        return segment;
    }

    /**
     * Integer inputs in [-127, 127] with 127 or -127 in every block of 32: Q8_0 then gets d = 1 and
     * Q8_K d = +-1, and fp16/bf16 hold them exactly, so every type sees exactly these values.
     */
    static float[] exactInputs(int batch, int cols) {
        float[] x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i * 37 + 11) % 255 - 127;
            if (i % 32 == 5) {
                x[i] = (i / 32) % 2 == 0 ? 127 : -127;
            }
        }
        return x;
    }

    static void check(GgmlType type, ByteBuffer bytes, double[][] expected) {
        int rows = expected.length;
        int cols = expected[0].length;
        MemorySegment data = nativeCopy(bytes);
        WeightMatrix matrix = WeightMatrix.of("hand-built", type, rows, cols, data);
        assertEquals(bytes.capacity(), matrix.byteSize());

        float[] all = Dequantize.toFloats(type, data, (long) rows * cols);
        for (int r = 0; r < rows; r++) {
            float[] row = new float[cols + 3];
            matrix.readRow(r, row, 3);
            for (int c = 0; c < cols; c++) {
                assertEquals(expected[r][c], row[3 + c], 0, type + " readRow row " + r + " col " + c);
                assertEquals(expected[r][c], all[r * cols + c], 0, type + " Dequantize row " + r + " col " + c);
            }
        }

        for (int threads = 1; threads <= 2; threads++) {
            try (ComputePool pool = new ComputePool(threads)) {
                for (int batch : new int[] {1, 6}) {
                    float[] x = exactInputs(batch, cols);
                    float[] out = new float[batch * rows];
                    matrix.multiply(x, batch, out, pool);
                    for (int b = 0; b < batch; b++) {
                        for (int r = 0; r < rows; r++) {
                            double dot = 0;
                            double magnitude = 0;
                            for (int c = 0; c < cols; c++) {
                                dot += expected[r][c] * x[b * cols + c];
                                magnitude += Math.abs(expected[r][c] * x[b * cols + c]);
                            }
                            assertEquals(dot, out[b * rows + r], 1e-6 * magnitude + 1e-30,
                                    type + " multiply batch " + batch + " input " + b + " row " + r + " threads " + threads);
                        }
                    }
                }
            }
        }
    }

    /** The same bytes read as a heap segment give the same results as native memory. */
    static void checkHeapSegment(GgmlType type, ByteBuffer bytes, int rows, int cols) {
        WeightMatrix heap = WeightMatrix.of("heap", type, rows, cols, MemorySegment.ofArray(bytes.array()));
        WeightMatrix off = WeightMatrix.of("native", type, rows, cols, nativeCopy(bytes));
        try (ComputePool pool = new ComputePool(1)) {
            float[] x = exactInputs(1, cols);
            float[] a = new float[rows];
            float[] b = new float[rows];
            heap.multiply(x, 1, a, pool);
            off.multiply(x, 1, b, pool);
            assertArrayEquals(b, a);
        }
    }
}
