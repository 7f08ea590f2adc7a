package io.kvcache.core.tensor;

import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoded values of real files checked against sources outside the decoder: the tiny model's
 * variants against the F32 file llama-quantize made them from (within each format's rounding
 * error), and the synthetic K-quant models against the distribution their weights were drawn from.
 */
class DequantizedTensorsTest {

    @ParameterizedTest
    @CsvSource({"F16", "BF16", "Q8_0", "Q4_0"})
    void tinyVariantsMatchTheirF32Source(GgmlType type) {
        try (GgufFile source = GgufFile.open(SharedData.require("models/tiny/tinystories-656k.gguf"));
             GgufFile variant = GgufFile.open(SharedData.require("models/tiny/tinystories-656k-" + type + ".gguf"))) {
            int checked = 0;
            for (GgufTensor tensor : variant.tensors()) {
                if (tensor.type() != type) {
                    continue;
                }
                float[] original = Dequantize.toFloats(GgmlType.F32, source.requireTensor(tensor.name()).data(), tensor.elementCount());
                float[] decoded = Dequantize.toFloats(type, tensor.data(), tensor.elementCount());
                for (int start = 0; start < original.length; start += 32) {
                    double amax = 0;
                    for (int i = start; i < start + 32; i++) {
                        amax = Math.max(amax, Math.abs(original[i]));
                    }
                    for (int i = start; i < start + 32; i++) {
                        double bound = switch (type) {
                            case F16 -> Math.abs(original[i]) * 0x1p-11 + 0x1p-25;
                            case BF16 -> Math.abs(original[i]) * 0x1p-8;
                            // half a step of amax/127, plus the step's fp16 rounding over up to 127 steps
                            case Q8_0 -> amax / 127 * 0.5 + amax * 0x1p-10;
                            // steps of amax/8; the value opposite the block's extreme clips to +7 steps
                            default -> amax / 8 * 1.01;
                        };
                        assertEquals(original[i], decoded[i], bound, tensor.name() + " value " + i);
                    }
                }
                checked++;
            }
            assertTrue(checked >= 14, "only " + checked + " " + type + " tensors");
        }
    }

    /** The synthetic models' matrices are N(0, 0.02) before quantization (models/README.md). */
    @ParameterizedTest
    @CsvSource({
            "models/synthetic/llama3-tiny-Q4_K_M.gguf, Q4_K",
            "models/synthetic/llama3-tiny-Q4_K_M.gguf, Q6_K",
            "models/synthetic/llama2-tiny-Q5_K_M.gguf, Q5_K",
            "models/synthetic/llama2-tiny-Q6_K.gguf, Q6_K",
    })
    void syntheticKQuantsKeepTheirDistribution(String file, GgmlType type) {
        try (GgufFile gguf = GgufFile.open(SharedData.require(file))) {
            int checked = 0;
            for (GgufTensor tensor : gguf.tensors()) {
                if (tensor.type() != type || !tensor.name().startsWith("blk.")) {
                    continue;
                }
                float[] w = Dequantize.toFloats(type, tensor.data(), tensor.elementCount());
                double sum = 0;
                double squares = 0;
                double fourth = 0;
                for (float v : w) {
                    sum += v;
                    squares += v * v;
                    fourth += (double) v * v * v * v;
                }
                double mean = sum / w.length;
                double variance = squares / w.length - mean * mean;
                double kurtosis = fourth / w.length / (variance * variance);
                String what = tensor + ": mean " + mean + ", std " + Math.sqrt(variance) + ", kurtosis " + kurtosis;
                assertEquals(0, mean, 0.001, what);
                assertEquals(0.02, Math.sqrt(variance), 0.001, what);
                assertEquals(3, kurtosis, 0.3, what); // Gaussian, not the flat or spiky shape of misread bits
                checked++;
            }
            assertTrue(checked > 0, "no " + type + " block tensors in " + file);
        }
    }
}
