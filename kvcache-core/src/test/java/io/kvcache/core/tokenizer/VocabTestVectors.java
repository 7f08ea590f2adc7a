package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test vectors (reference/vocab/ggml-vocab-NAME.gguf.inp/.out): strings, each
 * followed by a separator line, and per string one line of ids, tokenized without BOS and without
 * special-token parsing (as test-tokenizer-0 does).
 */
final class VocabTestVectors {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    record Case(String vocab, int index, String text, int[] ids) {
        @Override
        public String toString() {
            return vocab + " #" + index + " \"" + text + "\"";
        }
    }

    private VocabTestVectors() {
    }

    static String vocabFile(String vocab) {
        return "reference/vocab/ggml-vocab-" + vocab + ".gguf";
    }

    /** The cases of one vocabulary; none when the shared data is absent. */
    static List<Case> of(String vocab) {
        Path base = SharedData.root().resolve(vocabFile(vocab));
        if (!Files.exists(base)) {
            return List.of();
        }
        List<String> inputs = inputs(read(base.resolveSibling(base.getFileName() + ".inp")));
        List<String> outputs = read(base.resolveSibling(base.getFileName() + ".out")).lines().toList();
        if (inputs.size() != outputs.size()) {
            throw new IllegalStateException(vocab + ": .inp has " + inputs.size() + " tests, .out " + outputs.size());
        }
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String line = outputs.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(vocab, i, inputs.get(i), ids));
        }
        return cases;
    }

    private static List<String> inputs(String raw) {
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

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
