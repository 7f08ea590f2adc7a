package io.kvcache.core.tokenizer;

import io.kvcache.core.format.GgufMetadata;

import java.nio.file.Path;

/** Creates tokenizers from model metadata. */
public final class Tokenizers {
    /** More tokens than any vocabulary has (the largest have about 260,000); ids at or above it are refused. */
    public static final int MAX_VOCABULARY = 1 << 22;

    private Tokenizers() {
    }

    /**
     * The tokenizer described by a GGUF file's {@code tokenizer.ggml.*} metadata: model "llama"
     * (SentencePiece) or "gpt2" (byte-level BPE with the pre-tokenizer named by tokenizer.ggml.pre).
     *
     * @throws io.kvcache.core.ModelFormatException for other tokenizer models or missing/inconsistent metadata
     */
    public static Tokenizer fromGguf(GgufMetadata metadata) {
        return GgufTokenizerReader.read(metadata);
    }

    /**
     * The tokenizer of a Hugging Face model folder: tokenizer.json (a BPE model), with BOS/EOS and
     * their add flags from tokenizer_config.json (else the post_processor template) and extra
     * end-of-generation ids from generation_config.json when present. Characters the vocabulary
     * cannot encode raise {@link TokenizationException} instead of becoming the unknown token. Added
     * tokens' lstrip/rstrip flags are honoured, single_word is not.
     *
     * @throws io.kvcache.core.ModelFormatException when tokenizer.json is missing, unreadable or uses unsupported features
     */
    public static Tokenizer fromHuggingFace(Path folder) {
        return HuggingFaceTokenizerReader.read(folder);
    }
}
