package io.kvcache.core.tensor;

import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Multiplies real tensors of the test models and compares every sampled output with (a) the
 * double-precision dot of readRow's values and the activation as ggml quantizes it (tight: only
 * float rounding differs) and (b) the full-precision dot with the unquantized input (loose: the
 * activation quantization error, bounded per value).
 */
class RealTensorsTest {
    private static final int BATCH = 5; // one group of 4 inputs and one single input

    @ParameterizedTest
    @CsvSource({
            "models/tiny/tinystories-656k.gguf, F32",
            "models/tiny/tinystories-656k-F16.gguf, F16",
            "models/tiny/tinystories-656k-BF16.gguf, BF16",
            "models/tiny/tinystories-656k-Q8_0.gguf, Q8_0",
            "models/tiny/tinystories-656k-Q4_0.gguf, Q4_0",
            "models/synthetic/llama2-tiny-Q4_0.gguf, Q4_0",
            "models/synthetic/llama3-tiny-Q4_K_M.gguf, Q4_K",
            "models/synthetic/llama3-tiny-Q4_K_M.gguf, Q6_K",
            "models/synthetic/llama2-tiny-Q5_K_M.gguf, Q5_K",
            "models/synthetic/llama2-tiny-Q6_K.gguf, Q6_K",
    })
    void multiplyMatchesDequantizedRows(String file, GgmlType type) {
        try (GgufFile gguf = GgufFile.open(SharedData.require(file));
             ComputePool pool = new ComputePool(2)) {
            List<GgufTensor> tensors = gguf.tensors().stream()
                    .filter(t -> t.type() == type && t.dims().length == 2)
                    .limit(4)
                    .toList();
            assertFalse(tensors.isEmpty(), "no 2-D " + type + " tensor in " + file);
            for (GgufTensor tensor : tensors) {
                check(WeightMatrix.of(tensor.name(), type, tensor.rows(), tensor.cols(), tensor.data()), pool);
            }
        }
    }

    private static void check(WeightMatrix m, ComputePool pool) {
        int rows = m.rows();
        int cols = m.cols();
        Random random = new Random(rows * 31L + cols);
        float[] x = new float[BATCH * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] out = new float[BATCH * rows];
        m.multiply(x, BATCH, out, pool);

        float[] w = new float[cols];
        int step = Math.max(1, rows / 97);
        for (int r = 0; r < rows; r += step) {
            m.readRow(r, w, 0);
            for (int b = 0; b < BATCH; b++) {
                double[] xq = ReferenceQuantizer.activation(m.type(), x, b * cols, cols);
                double quantizedDot = 0;
                double magnitude = 0;
                double exactDot = 0;
                double quantizationBound = 0;
                for (int c = 0; c < cols; c++) {
                    quantizedDot += w[c] * xq[c];
                    magnitude += Math.abs(w[c] * xq[c]);
                    exactDot += w[c] * x[b * cols + c];
                    quantizationBound += Math.abs(w[c]) * maxActivationError(m.type(), x, b * cols, c);
                }
                String where = m + " row " + r + " input " + b;
                assertEquals(quantizedDot, out[b * rows + r], 1e-5 * magnitude + 1e-6, where + " vs dequantized dot");
                assertEquals(exactDot, out[b * rows + r], quantizationBound + 1e-5 * magnitude + 1e-6, where + " vs exact dot");
            }
        }
    }

    /** How far the activation format may move x[base + c]: half a quantization step, or half an ulp of fp16/bf16. */
    private static double maxActivationError(GgmlType type, float[] x, int base, int c) {
        double v = Math.abs(x[base + c]);
        return switch (type) {
            case F32 -> 0;
            case F16 -> v * 0x1p-11;
            case BF16 -> v * 0x1p-8;
            default -> {
                int block = type == GgmlType.Q8_0 || type == GgmlType.Q4_0 ? 32 : 256;
                int start = base + c / block * block;
                double amax = 0;
                for (int i = start; i < start + block; i++) {
                    amax = Math.max(amax, Math.abs(x[i]));
                }
                // half a step of amax/127, plus the step's own fp16 rounding (Q8_0) over up to 127 steps
                yield amax / 127 * 0.5 + amax * 0x1p-11;
            }
        };
    }
}
