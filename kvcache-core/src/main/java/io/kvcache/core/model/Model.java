package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A loaded model: its shape, its weights (mapped from the file, not copied), its tokenizer and its
 * chat template. Closing it unmaps the weights; nothing may use it afterwards.
 */
public final class Model implements AutoCloseable {
    private final Path source;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Tokenizer tokenizer;
    private final String chatTemplate;
    private final AutoCloseable mapping;

    Model(Path source, ModelConfig config, ModelWeights weights, Tokenizer tokenizer, String chatTemplate,
          AutoCloseable mapping) {
        this.source = source;
        this.config = config;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.mapping = mapping;
    }

    /** Loads a GGUF file, or a Hugging Face folder (config.json, model.safetensors, tokenizer.json). */
    public static Model load(Path path) {
        if (Files.isDirectory(path)) {
            return HuggingFaceModelLoader.load(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path + ": no such model file or folder");
        }
        return GgufModelLoader.load(path);
    }

    public Path source() {
        return source;
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The Jinja chat template the model ships with, if any. */
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    @Override
    public void close() {
        try {
            mapping.close();
        } catch (Exception e) {
            throw new IllegalStateException("could not unmap " + source, e);
        }
    }
}
