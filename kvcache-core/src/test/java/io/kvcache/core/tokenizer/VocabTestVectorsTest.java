package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * llama.cpp's tokenizer test vectors (models/ggml-vocab-*.gguf.inp/.out): each string tokenized
 * without BOS and without special-token parsing, as test-tokenizer-0 does.
 */
class VocabTestVectorsTest {
    private static final List<String> VOCABS = List.of("llama-spm", "llama-bpe", "qwen2", "gpt-2");
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static Stream<Arguments> vectors() {
        Path dir = SharedData.root().resolve("reference/vocab");
        if (!Files.isDirectory(dir)) {
            return Stream.empty();
        }
        List<Arguments> cases = new ArrayList<>();
        for (String vocab : VOCABS) {
            Path base = dir.resolve("ggml-vocab-" + vocab + ".gguf");
            List<String> inputs = inputs(base.resolveSibling(base.getFileName() + ".inp"));
            List<String> outputs = lines(base.resolveSibling(base.getFileName() + ".out"));
            assertEquals(inputs.size(), outputs.size(), vocab + ": .inp and .out hold different numbers of tests");
            for (int i = 0; i < inputs.size(); i++) {
                String line = outputs.get(i).strip();
                int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
                cases.add(Arguments.of(vocab, i, inputs.get(i), ids));
            }
        }
        return cases.stream();
    }

    /** The test strings: each is followed by a separator line (strings may contain newlines). */
    private static List<String> inputs(Path file) {
        String raw = read(file);
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        while (pos < raw.length()) {
            int next = raw.indexOf(SEPARATOR, pos);
            if (next < 0) {
                inputs.add(raw.substring(pos));
                break;
            }
            inputs.add(raw.substring(pos, next));
            pos = next + SEPARATOR.length();
        }
        return inputs;
    }

    private static List<String> lines(Path file) {
        return read(file).lines().toList();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0} #{1}: \"{2}\"", allowZeroInvocations = true)
    @MethodSource("vectors")
    void tokenizesLikeLlamaCpp(String vocab, int index, String text, int[] expected) {
        Tokenizer tokenizer = TestTokenizers.gguf("reference/vocab/ggml-vocab-" + vocab + ".gguf");
        assertArrayEquals(expected, tokenizer.encode(text, false, false), () -> "text: \"" + text + "\"");
    }
}
