package io.kvcache.core.format;

import io.kvcache.core.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Both format readers open a file the same way: only a regular file, at least as long as the format's header. */
class MappedFileTest {
    @TempDir
    Path dir;

    @Test
    void aFolderIsRefusedByBothReaders() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("weights.gguf"));
        assertThatThrownBy(() -> GgufFile.open(folder)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("weights.gguf").hasMessageContaining("not a regular file");
        assertThatThrownBy(() -> SafetensorsFile.open(folder)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("weights.gguf").hasMessageContaining("not a regular file");
    }

    @Test
    void aFileShorterThanTheHeaderIsTruncated() throws IOException {
        // GGUF's fixed header: magic, version, two 64-bit counts; safetensors': the 8-byte header length.
        Path gguf = Files.write(dir.resolve("short.gguf"), new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0});
        assertThatThrownBy(() -> GgufFile.open(gguf)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("short.gguf").hasMessageContaining("truncated: 12 bytes, shorter than the 24-byte GGUF header");
        Path safetensors = Files.write(dir.resolve("short.safetensors"), new byte[7]);
        assertThatThrownBy(() -> SafetensorsFile.open(safetensors)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("truncated: 7 bytes, shorter than the 8-byte safetensors header");
    }

    @Test
    void aMissingFileIsNamed() {
        assertThatThrownBy(() -> SafetensorsFile.open(dir.resolve("absent.safetensors")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("absent.safetensors: no such file");
    }
}
