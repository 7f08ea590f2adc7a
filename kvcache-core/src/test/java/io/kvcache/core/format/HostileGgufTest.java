package io.kvcache.core.format;

import io.kvcache.core.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GGUF files forged to make the reader allocate, wrap around or accept what cannot be: each ends in
 * a {@link ModelFormatException} naming the problem, before anything is sized by the forged number.
 */
class HostileGgufTest {
    private static final int F32 = 0;

    @TempDir
    Path dir;

    private Path write(GgufBytes b) throws IOException {
        Path file = dir.resolve("hostile.gguf");
        Files.write(file, b.bytes());
        return file;
    }

    private void assertRejected(GgufBytes b, String message) {
        assertThatThrownBy(() -> GgufFile.open(write(b)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("hostile.gguf")
                .hasMessageContaining(message);
    }

    @Test
    void arrayCountIsCheckedAgainstTheBytesLeftTimesTheElementSize() {
        // A million zero bytes hold a million one-byte values but not a million eight-byte ones.
        GgufBytes b = new GgufBytes().header(3, 0, 1);
        b.key("k", 9).u32(10).u64(1_000_000).raw(new byte[1_000_000]);
        assertRejected(b, "bytes are left for items of at least 8 bytes");
    }

    @Test
    void tensorCountIsCheckedAgainstTheBytesLeft() {
        GgufBytes b = new GgufBytes().header(3, 40_000, 0).raw(new byte[40_000]);
        assertRejected(b, "corrupt tensor count");
    }

    @Test
    void arraysOfArraysNestOnlySoDeep() {
        GgufBytes b = new GgufBytes().header(3, 0, 1);
        b.key("k", 9).u32(9).u64(1).u32(9).u64(1).u32(9).u64(1).u32(5).u64(0);
        assertRejected(b, "nests arrays deeper than");
    }

    @Test
    void tensorOffsetNearTheLongLimitDoesNotWrapAround() {
        GgufBytes b = new GgufBytes().header(3, 1, 0).tensorInfo("t", new long[] {8}, F32, Long.MAX_VALUE - 31).padTo(32);
        b.raw(new byte[32]);
        assertRejected(b, "truncated: tensor 't'");
    }

    @Test
    void dimensionsWhoseProductOverflowsAreRejected() {
        GgufBytes b = new GgufBytes().header(3, 1, 0).tensorInfo("t", new long[] {1L << 40, 1L << 40}, F32, 0).padTo(32);
        assertRejected(b, "too large for any file");
    }

    @Test
    void overlappingTensorsAreRejected() {
        GgufBytes b = new GgufBytes().header(3, 2, 0)
                .tensorInfo("a", new long[] {8}, F32, 0)
                .tensorInfo("b", new long[] {8}, F32, 0).padTo(32);
        b.raw(new byte[64]);
        assertRejected(b, "overlap");
    }

    @Test
    void duplicateMetadataKeysAreRejected() {
        GgufBytes b = new GgufBytes().header(3, 0, 2);
        b.key("general.name", 8).str("one").key("general.name", 8).str("two");
        assertRejected(b, "'general.name' appears twice");
    }

    @Test
    void namesFromTheFileAreShortenedAndEscapedInMessages() {
        String name = "evil\n[ERROR] forged log line " + "x".repeat(100_000);
        GgufBytes b = new GgufBytes().header(3, 1, 0).tensorInfo(name, new long[] {8}, 99, 0).padTo(32);
        assertThatThrownBy(() -> GgufFile.open(write(b)))
                .isInstanceOf(ModelFormatException.class)
                .satisfies(e -> {
                    assertThat(e.getMessage()).doesNotContain("\n").contains("evil\\n[ERROR]").contains("...");
                    assertThat(e.getMessage().length()).isLessThan(400);
                });
    }
}
