package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The "tokenize" entries of the llama.cpp reference JSONs in the shared data (reference/*.json). */
final class ReferenceJson {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The vocabulary file of each synthetic model family, for reference JSONs whose model file is not shipped. */
    private static final Map<String, String> VOCAB_OF_FAMILY = Map.of(
            "llama3-tiny", "reference/vocab/ggml-vocab-llama-bpe.gguf",
            "llama2-tiny", "reference/vocab/ggml-vocab-llama-spm.gguf",
            "qwen2-tiny", "reference/vocab/ggml-vocab-qwen2.gguf",
            "qwen3-tiny", "reference/vocab/ggml-vocab-gpt-2.gguf");

    /** One tokenize entry; {@code model} is the GGUF file whose tokenizer it is checked against. */
    record Entry(String reference, Path model, int index, JsonNode json) {
        String text() {
            return json.get("text").asString();
        }

        boolean isError() {
            return json.has("error");
        }

        int[] ids(String field) {
            return json.get(field).values().stream().mapToInt(JsonNode::asInt).toArray();
        }

        /** A piece as bytes: the server gives valid UTF-8 as a string, anything else as a list of byte values. */
        byte[] piece(int i) {
            JsonNode piece = json.get("pieces").get(i);
            if (piece.isString()) {
                return piece.asString().getBytes(StandardCharsets.UTF_8);
            }
            byte[] bytes = new byte[piece.size()];
            for (int b = 0; b < bytes.length; b++) {
                bytes[b] = (byte) piece.get(b).asInt();
            }
            return bytes;
        }

        @Override
        public String toString() {
            return reference + " #" + index + " \"" + text() + "\"";
        }
    }

    private ReferenceJson() {
    }

    /** Every entry of every reference JSON (none when the shared data is absent). */
    static Stream<Entry> entries() {
        Path dir = SharedData.root().resolve("reference");
        if (!Files.isDirectory(dir)) {
            return Stream.empty();
        }
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                JsonNode root = JSON.readTree(file);
                Path model = modelFor(root.get("model").asString());
                String name = file.getFileName().toString().replace(".json", "");
                JsonNode tokenize = root.get("tokenize");
                for (int i = 0; i < tokenize.size(); i++) {
                    entries.add(new Entry(name, model, i, tokenize.get(i)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries.stream();
    }

    /**
     * The model file itself, or the vocabulary file of its family when the model is not shipped (its
     * "model" field then reads "path (NOT SHIPPED ...)").
     */
    private static Path modelFor(String field) {
        String relative = field.split(" ", 2)[0];
        Path model = SharedData.root().resolve(relative);
        if (Files.exists(model)) {
            return model;
        }
        String stem = model.getFileName().toString();
        return VOCAB_OF_FAMILY.entrySet().stream()
                .filter(e -> stem.startsWith(e.getKey() + "-"))
                .map(e -> SharedData.root().resolve(e.getValue()))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no model or vocabulary file for " + field));
    }
}
