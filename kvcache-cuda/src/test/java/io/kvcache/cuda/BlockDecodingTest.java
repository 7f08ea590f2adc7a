package io.kvcache.cuda;

import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufTensor;
import io.kvcache.core.tensor.GgmlType;
import io.kvcache.core.tensor.WeightMatrix;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The GPU kernels' block decoding (src/main/cuda/blocks.cuh), compiled for the host by nvcc, gives
 * bit for bit what the CPU kernels' readRow gives, on real tensors of every device weight type.
 * Needs nvcc (and its host compiler) but no GPU.
 */
class BlockDecodingTest {
    private static final int MAX_ROWS = 48;

    @TempDir
    static Path work;
    private static Path decoder;

    @BeforeAll
    static void compileTheHostDecoder() {
        Path nvcc = CudaTools.requireNvcc();
        Path source = CudaTools.property("kvcache.cuda.test.sources").resolve("decode_rows.cu");
        decoder = work.resolve("decode_rows");
        CudaTools.run(List.of(nvcc.toString(), "-O2", "-o", decoder.toString(), source.toString()), source.getParent());
    }

    @ParameterizedTest(name = "{1} from {0}")
    @CsvSource({
            "models/tiny/stories260K.gguf, F32",
            "models/tiny/tinystories-656k-F16.gguf, F16",
            "models/tiny/tinystories-656k-BF16.gguf, BF16",
            "models/tiny/tinystories-656k-Q8_0.gguf, Q8_0",
            "models/synthetic/llama2-tiny-Q4_0.gguf, Q4_0",
            "models/synthetic/llama3-tiny-Q4_K_M.gguf, Q4_K",
            "models/synthetic/llama2-tiny-Q5_K_M.gguf, Q5_K",
            "models/synthetic/llama2-tiny-Q6_K.gguf, Q6_K"})
    void decodesEveryMatrixOfTheTypeAsTheCpuKernelDoes(String model, GgmlType type) throws IOException {
        int checked = 0;
        try (GgufFile file = GgufFile.open(SharedData.require(model))) {
            for (GgufTensor tensor : file.tensors()) {
                if (tensor.type() == type && tensor.dims().length == 2) {
                    compare(tensor, type);
                    checked++;
                }
            }
        }
        assertThat(checked).as(type + " matrices in " + model).isPositive();
    }

    private static void compare(GgufTensor tensor, GgmlType type) throws IOException {
        int cols = tensor.cols();
        int rows = Math.min(MAX_ROWS, tensor.rows());
        long bytes = type.bytesFor((long) rows * cols);
        MemorySegment data = tensor.data().asSlice(0, bytes);
        Path in = work.resolve("rows.bin");
        Path out = work.resolve("values.bin");
        Files.write(in, data.toArray(ValueLayout.JAVA_BYTE));
        CudaTools.run(List.of(decoder.toString(), type.name().toLowerCase(Locale.ROOT), Integer.toString(rows),
                Integer.toString(cols), in.toString(), out.toString()), work);
        ByteBuffer decoded = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(decoded.remaining()).isEqualTo(rows * cols * Float.BYTES);
        WeightMatrix matrix = WeightMatrix.of(tensor.name(), type, rows, cols, data);
        float[] expected = new float[cols];
        for (int r = 0; r < rows; r++) {
            matrix.readRow(r, expected, 0);
            for (int c = 0; c < cols; c++) {
                float actual = decoded.getFloat();
                if (Float.floatToRawIntBits(actual) != Float.floatToRawIntBits(expected[c])) {
                    throw new AssertionError(tensor.name() + " (" + type + ") row " + r + " column " + c + ": the device decoder gives "
                            + actual + ", the CPU kernel " + expected[c]);
                }
            }
        }
    }
}
