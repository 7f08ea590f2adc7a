package io.kvcache.core.tokenizer;

import io.kvcache.core.gguf.GgufMetadata;

import java.nio.file.Path;

/** Creates tokenizers from model metadata. */
public final class Tokenizers {
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
}
