package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufRewriter;
import io.kvcache.core.format.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real models with one number forged (GGUF metadata, config.json, the safetensors header,
 * tokenizer.json): every one fails with a {@link ModelFormatException} naming the number, before it
 * sizes, divides or indexes anything.
 */
class HostileModelFilesTest {
    private static final String STORIES = "models/tiny/stories260K.gguf";

    @TempDir
    Path dir;

    private void assertGgufRejected(Map<String, Object> overrides, String message) throws IOException {
        Path file = dir.resolve("forged.gguf");
        Files.write(file, GgufRewriter.rewrite(SharedData.require(STORIES), overrides));
        assertThatThrownBy(() -> Model.load(file))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("forged.gguf")
                .hasMessageContaining(message);
    }

    @Test
    void layerCountOfTwoBillionFailsBeforeAnythingIsBuilt() throws IOException {
        assertGgufRejected(Map.of("llama.block_count", Integer.MAX_VALUE), "layer count is 2147483647");
    }

    @Test
    void headCountOfZeroIsRefusedNotDividedBy() throws IOException {
        assertGgufRejected(Map.of("llama.attention.head_count", 0), "head count is 0");
    }

    @Test
    void contextLengthAboveTheIntRangeIsRefused() throws IOException {
        assertGgufRejected(Map.of("llama.context_length", 3_000_000_000L), "outside the range of a 32-bit integer");
    }

    @Test
    void headWidthWhoseProductWrapsIsRefused() throws IOException {
        // 8 heads x (2^29 + 8) wraps to 64, the real model's width: without exact arithmetic it loads.
        assertGgufRejected(Map.of("llama.attention.head_count", 8, "llama.attention.key_length", (1 << 29) + 8),
                "key width is 536870920");
    }

    @Test
    void tokenizerLargerThanTheEmbeddingIsRefused() throws IOException {
        Map<String, Object> tokenizer = grownVocabulary(SharedData.require(STORIES), 10);
        assertGgufRejected(tokenizer, "rows");
    }

    /** The vocabulary with {@code extra} more tokens than the embedding has rows. */
    private static Map<String, Object> grownVocabulary(Path model, int extra) {
        try (GgufFile file = GgufFile.open(model)) {
            String[] tokens = file.metadata().strings("tokenizer.ggml.tokens").orElseThrow();
            int[] types = file.metadata().ints("tokenizer.ggml.token_type").orElseThrow();
            float[] scores = file.metadata().floats("tokenizer.ggml.scores").orElseThrow();
            String[] grown = Arrays.copyOf(tokens, tokens.length + extra);
            for (int id = tokens.length; id < grown.length; id++) {
                grown[id] = "<extra" + id + ">";
            }
            int[] grownTypes = Arrays.copyOf(types, grown.length);
            Arrays.fill(grownTypes, tokens.length, grown.length, 1);
            return Map.of("tokenizer.ggml.tokens", grown, "tokenizer.ggml.scores", Arrays.copyOf(scores, grown.length),
                    "tokenizer.ggml.token_type", grownTypes);
        }
    }

    private Path safetensors(String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path file = dir.resolve("forged.safetensors");
        Files.write(file, b.array());
        return file;
    }

    private static void assertSafetensorsRejected(Path file, String message) {
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("forged.safetensors")
                .hasMessageContaining(message);
    }

    @Test
    void safetensorsHeaderLengthNearTwoToTheSixtyThreeIsRefused() throws IOException {
        Path file = dir.resolve("forged.safetensors");
        byte[] bytes = new byte[64];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE - 4);
        Files.write(file, bytes);
        assertSafetensorsRejected(file, "corrupt safetensors header length");
    }

    @Test
    void negativeSafetensorsDimensionsAreRefused() throws IOException {
        assertSafetensorsRejected(safetensors("{\"t\": {\"dtype\": \"F32\", \"shape\": [-2, -2], \"data_offsets\": [0, 16]}}", 16),
                "dimension 0 = -2");
    }

    @Test
    void overlappingSafetensorsTensorsAreRefused() throws IOException {
        assertSafetensorsRejected(safetensors("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", 24), "overlap");
    }

    @Test
    void duplicateSafetensorsNamesAreRefused() throws IOException {
        assertSafetensorsRejected(safetensors("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                + " \"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [16, 32]}}", 32), "Duplicate");
    }

    @Test
    void safetensorsShapeWhoseSizeOverflowsIsRefused() throws IOException {
        assertSafetensorsRejected(safetensors("{\"t\": {\"dtype\": \"F32\", \"shape\": [2147483647, 2147483647, 2147483647],"
                + " \"data_offsets\": [0, 16]}}", 16), "too large for any file");
    }

    private Path hfFolder(String vocab, String merges) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("hf"));
        Path real = SharedData.require("models/tiny/tinystories-656k-hf");
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer_config.json"}) {
            Files.copy(real.resolve(f), folder.resolve(f));
        }
        Files.writeString(folder.resolve("tokenizer.json"), """
                {"added_tokens": [], "normalizer": null, "pre_tokenizer": null, "decoder": null,
                 "model": {"type": "BPE", "vocab": %s, "merges": %s}}""".formatted(vocab, merges));
        return folder;
    }

    @Test
    void tokenizerIdOfTwoBillionIsRefusedBeforeAllocating() throws IOException {
        Path folder = hfFolder("{\"a\": 0, \"b\": 2000000000}", "[]");
        assertThatThrownBy(() -> Model.load(folder))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining("has id 2000000000");
    }

    @Test
    void negativeTokenizerIdIsRefused() throws IOException {
        Path folder = hfFolder("{\"a\": 0, \"b\": -5}", "[]");
        assertThatThrownBy(() -> Model.load(folder))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("has id -5");
    }

    @Test
    void malformedMergeRulesAreRefused() throws IOException {
        for (String merges : Arrays.asList("[[\"a\"]]", "[7]", "[[\"a\", 3]]")) {
            Path folder = hfFolder("{\"a\": 0, \"b\": 1}", merges);
            assertThatThrownBy(() -> Model.load(folder))
                    .as(merges)
                    .isInstanceOf(ModelFormatException.class).hasMessageContaining("merge rule");
            deleteFolder(folder);
        }
    }

    private static void deleteFolder(Path folder) throws IOException {
        try (var files = Files.walk(folder)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
