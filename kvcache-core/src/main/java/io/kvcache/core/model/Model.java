package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.chat.ChatTemplate;
import io.kvcache.core.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
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
    private final String chatTemplateSource;
    private final AutoCloseable mapping;
    private ChatTemplate chatTemplate;

    Model(Path source, ModelConfig config, ModelWeights weights, Tokenizer tokenizer, String chatTemplateSource,
          AutoCloseable mapping) {
        this.source = source;
        this.config = config;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.chatTemplateSource = chatTemplateSource;
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

    /**
     * The Jinja chat template the model ships with (GGUF {@code tokenizer.chat_template}; in a
     * Hugging Face folder chat_template.jinja or tokenizer_config.json's {@code chat_template}), set
     * up for this model's tokenizer: it sees the tokenizer's BOS/EOS texts, and leaves out the BOS/EOS
     * the tokenizer adds itself when encoding with add-special, and messages' special-token text is
     * marked to be encoded as plain text (see {@link ChatTemplate#withMessageText}). Parsed on the
     * first call, not at load, so that a template kvcache cannot parse does not stop the model from loading.
     *
     * @throws io.kvcache.core.chat.ChatTemplateException when the template does not parse
     */
    public synchronized Optional<ChatTemplate> chatTemplate() {
        if (chatTemplate == null && chatTemplateSource != null) {
            chatTemplate = ChatTemplate.named(source.getFileName() + " chat template", chatTemplateSource,
                            tokenText(tokenizer.bosId()), tokenText(tokenizer.eosId()))
                    .forTokenizerAdding(tokenizer.addsBos(), tokenizer.addsEos())
                    .withMessageText(tokenizer::markSpecialAsText);
        }
        return Optional.ofNullable(chatTemplate);
    }

    /** A special token as the template sees it: its text as llama.cpp prints it, "" when the vocabulary has none. */
    private String tokenText(int id) {
        return id < 0 ? "" : new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8);
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
