package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * llama.cpp's tokenizer test vectors (ggml-vocab-NAME.gguf.inp/.out): strings, each followed by a
 * separator line, and per string one line of ids, tokenized without BOS and without special-token
 * parsing (as test-tokenizer-0 does). The four vocabularies the shared data ships are read from
 * reference/vocab there; the others from this module's test resources (vocab/), where
 * scripts/trim_vocab_gguf.py keeps of each vocabulary only the tokens and merges its vectors can
 * consult, gzip-compressed.
 */
final class VocabTestVectors {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    /** {@code gguf}: the vocabulary file the ids were computed with (or its trimmed copy). */
    record Case(String vocab, Path gguf, int index, String text, int[] ids) {
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

    /** The cases of one vocabulary of the shared data; none when the shared data is absent. */
    static List<Case> of(String vocab) {
        Path base = SharedData.root().resolve(vocabFile(vocab));
        if (!Files.exists(base)) {
            return List.of();
        }
        return cases(vocab, base, read(base.resolveSibling(base.getFileName() + ".inp")),
                read(base.resolveSibling(base.getFileName() + ".out")));
    }

    /** The cases of one vocabulary of the test resources, its trimmed file unpacked to a temporary file. */
    static List<Case> bundled(String vocab) {
        String base = "/vocab/ggml-vocab-" + vocab + ".gguf";
        try {
            Path gguf = Files.createTempFile("ggml-vocab-" + vocab, ".gguf");
            gguf.toFile().deleteOnExit();
            try (InputStream packed = new GZIPInputStream(resource(base + ".gz"))) {
                Files.copy(packed, gguf, StandardCopyOption.REPLACE_EXISTING);
            }
            return cases(vocab, gguf, text(base + ".inp"), text(base + ".out"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Case> cases(String vocab, Path gguf, String inp, String out) {
        List<String> inputs = inputs(inp);
        List<String> outputs = out.lines().toList();
        if (inputs.size() != outputs.size()) {
            throw new IllegalStateException(vocab + ": .inp has " + inputs.size() + " tests, .out " + outputs.size());
        }
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String line = outputs.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(vocab, gguf, i, inputs.get(i), ids));
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

    private static InputStream resource(String name) {
        InputStream in = VocabTestVectors.class.getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("test resource " + name + " is missing");
        }
        return in;
    }

    private static String text(String name) throws IOException {
        try (InputStream in = resource(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
