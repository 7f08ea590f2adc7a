package io.kvcache.core.format;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.SharedData;
import io.kvcache.core.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufFileTest {
    @TempDir
    Path dir;

    /** A v3 file with one value of every metadata type and one 2x4 F32 tensor holding 0..7. */
    private static byte[] everyType(int version) {
        GgufBytes b = new GgufBytes().header(version, 1, 13);
        b.key("u8", 0).u8(200);
        b.key("i8", 1).u8(0xFE);
        b.key("u16", 2).i16((short) 0xFFFF);
        b.key("i16", 3).i16((short) -3);
        b.key("u32", 4).u32(0xFFFFFFFF);
        b.key("i32", 5).u32(-5);
        b.key("f32", 6).f32(1.5f);
        b.key("bool", 7).u8(1);
        b.key("string", 8).str("héllo");
        b.key("u64", 10).u64(Long.MAX_VALUE);
        b.key("i64", 11).u64(-7);
        b.key("f64", 12).f64(2.25);
        b.key("array", 9).u32(8).u64(2).str("a").str("bc");
        b.tensorInfo("t", new long[] {4, 2}, 0, 0);
        b.padTo(32);
        for (int i = 0; i < 8; i++) {
            b.f32(i);
        }
        return b.bytes();
    }

    private Path write(byte[] bytes) throws IOException {
        Path file = dir.resolve("m.gguf");
        Files.write(file, bytes);
        return file;
    }

    @Test
    void readsEveryMetadataTypeAndTensorData() throws IOException {
        for (int version : new int[] {2, 3}) {
            try (GgufFile f = GgufFile.open(write(everyType(version)))) {
                GgufMetadata md = f.metadata();
                assertThat(f.version()).isEqualTo(version);
                assertThat(md.get("u8")).contains(200);
                assertThat(md.get("i8")).contains(-2);
                assertThat(md.get("u16")).contains(65535);
                assertThat(md.get("i16")).contains(-3);
                assertThat(md.get("u32")).contains(4294967295L);
                assertThat(md.get("i32")).contains(-5);
                assertThat(md.get("f32")).contains(1.5f);
                assertThat(md.get("bool")).contains(true);
                assertThat(md.string("string")).contains("héllo");
                assertThat(md.get("u64")).contains(Long.MAX_VALUE);
                assertThat(md.get("i64")).contains(-7L);
                assertThat(md.get("f64")).contains(2.25);
                assertThat(md.strings("array").orElseThrow()).containsExactly("a", "bc");
                GgufTensor t = f.requireTensor("t");
                assertThat(t.type()).isEqualTo(GgmlType.F32);
                assertThat(t.rows()).isEqualTo(2);
                assertThat(t.cols()).isEqualTo(4);
                float[] values = t.data().toArray(ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN));
                assertThat(values).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
                assertThat(f.dataOffset() % 32).isZero();
            }
        }
    }

    @Test
    void truncatedFileNamesWhatIsMissing() throws IOException {
        byte[] full = everyType(3);
        assertThatThrownBy(() -> GgufFile.open(write(Arrays.copyOf(full, full.length - 4))))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("truncated").hasMessageContaining("tensor 't'");
        assertThatThrownBy(() -> GgufFile.open(write(Arrays.copyOf(full, 40))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("truncated");
        assertThatThrownBy(() -> GgufFile.open(write(new byte[0])))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("truncated");
    }

    @Test
    void wrongMagicIsNotGguf() throws IOException {
        byte[] bytes = everyType(3);
        bytes[0] = 'X';
        assertThatThrownBy(() -> GgufFile.open(write(bytes)))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("not a GGUF file");
    }

    @Test
    void unknownVersionIsRejected() throws IOException {
        assertThatThrownBy(() -> GgufFile.open(write(everyType(1))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("version 1 is not supported");
        assertThatThrownBy(() -> GgufFile.open(write(everyType(4))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("version 4");
    }

    @Test
    void unknownTensorTypeNamesTheTensor() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0);
        b.tensorInfo("blk.0.attn_q.weight", new long[] {32, 1}, 99, 0).padTo(32).raw(new byte[256]);
        assertThatThrownBy(() -> GgufFile.open(write(b.bytes())))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("blk.0.attn_q.weight").hasMessageContaining("unknown type id 99");
    }

    @Test
    void corruptCountsAreRejectedBeforeAllocating() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1);
        b.str("k").u32(9).u32(8).u64(Long.MAX_VALUE / 2);
        assertThatThrownBy(() -> GgufFile.open(write(b.bytes())))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("corrupt");
    }

    @Test
    void missingFileIsAClearError() {
        assertThatThrownBy(() -> GgufFile.open(dir.resolve("absent.gguf")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("absent.gguf");
    }

    @Test
    void readsRealModelHeaders() {
        Path model = SharedData.require("models/synthetic/llama3-tiny-Q4_K_M.gguf");
        try (GgufFile f = GgufFile.open(model)) {
            assertThat(f.metadata().requireString("general.architecture")).isEqualTo("llama");
            assertThat(f.metadata().requireInt("llama.block_count")).isEqualTo(4);
            assertThat(f.metadata().strings("tokenizer.ggml.tokens").orElseThrow()).hasSize(128256);
            assertThat(f.requireTensor("token_embd.weight").type()).isEqualTo(GgmlType.Q6_K);
            assertThat(f.requireTensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q4_K);
        }
    }
}
