package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufTensor;
import io.kvcache.core.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad model files give one clear error that names what is wrong, and nothing half-loaded. */
class ModelLoadingErrorsTest {
    @TempDir
    Path dir;

    private byte[] tinyModelBytes() throws IOException {
        return Files.readAllBytes(SharedData.require("models/tiny/tinystories-656k.gguf"));
    }

    @Test
    void truncatedModelFile() throws IOException {
        byte[] bytes = tinyModelBytes();
        Path file = dir.resolve("truncated.gguf");
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> Model.load(file)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("truncated").hasMessageContaining("truncated.gguf");
    }

    @Test
    void notAGgufFile() throws IOException {
        Path file = dir.resolve("notes.gguf");
        Files.writeString(file, "these are not weights, just some text long enough to read a header from");
        assertThatThrownBy(() -> Model.load(file)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("not a GGUF file");
    }

    @Test
    void unsupportedTensorTypeNamesTensorAndType() throws IOException {
        // Re-label blk.0.attn_q.weight (F32) as I32, a type of the same size that kvcache does not compute with.
        byte[] bytes = tinyModelBytes();
        byte[] name = "blk.0.attn_q.weight".getBytes(StandardCharsets.UTF_8);
        int at = indexOf(bytes, name) + name.length;
        ByteBuffer info = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int dims = info.getInt(at);
        int typeAt = at + 4 + 8 * dims;
        assertThat(info.getInt(typeAt)).isEqualTo(GgmlType.F32.id());
        info.putInt(typeAt, GgmlType.I32.id());
        Path file = dir.resolve("i32.gguf");
        Files.write(file, bytes);
        assertThatThrownBy(() -> Model.load(file)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("blk.0.attn_q.weight").hasMessageContaining("I32");
    }

    @Test
    void unsupportedArchitectureIsNamed() throws IOException {
        byte[] bytes = tinyModelBytes();
        byte[] arch = "llama".getBytes(StandardCharsets.UTF_8);
        int at = indexOf(bytes, "general.architecture".getBytes(StandardCharsets.UTF_8));
        int value = indexOf(Arrays.copyOfRange(bytes, at, at + 64), arch) + at;
        System.arraycopy("mamba".getBytes(StandardCharsets.UTF_8), 0, bytes, value, arch.length);
        Path file = dir.resolve("mamba.gguf");
        Files.write(file, bytes);
        assertThatThrownBy(() -> Model.load(file)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("architecture 'mamba' is not supported");
    }

    @Test
    void missingFileOrFolder() {
        assertThatThrownBy(() -> Model.load(dir.resolve("absent.gguf"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("absent.gguf");
        assertThatThrownBy(() -> Model.load(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.json is missing");
    }

    @Test
    void loadsShapeAndTypesFromTheFile() {
        Path path = SharedData.require("models/tiny/tinystories-656k-Q8_0.gguf");
        try (Model model = Model.load(path); GgufFile file = GgufFile.open(path)) {
            GgufTensor q = file.requireTensor("blk.0.attn_q.weight");
            assertThat(model.weights().layers().getFirst().query().type()).isEqualTo(GgmlType.Q8_0);
            assertThat(model.weights().layers().getFirst().query().byteSize()).isEqualTo(q.data().byteSize());
            assertThat(model.config().contextLength()).isEqualTo(512);
            assertThat(model.config().kvHeads()).isEqualTo(4);
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found: " + new String(needle, StandardCharsets.UTF_8));
    }
}
