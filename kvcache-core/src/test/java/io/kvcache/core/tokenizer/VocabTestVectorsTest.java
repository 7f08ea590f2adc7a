package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * llama.cpp's tokenizer test vectors for every text-generation vocabulary of its models folder that
 * has them, through the GGUF tokenizer: the four the shared data ships, and trimmed copies of the
 * others in this module's test resources. aquila, baichuan, gpt-neox and nomic-bert-moe ship without
 * vectors in llama.cpp; theirs were computed with llama.cpp's tokenizer by scripts/make_vocab_vectors.py.
 */
class VocabTestVectorsTest {
    static Stream<VocabTestVectors.Case> vectors() {
        return Stream.concat(
                Stream.of("llama-spm", "llama-bpe", "qwen2", "gpt-2").flatMap(v -> VocabTestVectors.of(v).stream()),
                Stream.of("aquila", "baichuan", "command-r", "deepseek-coder", "deepseek-llm", "falcon", "gemma-4",
                        "gpt-neox", "mpt", "phi-3", "qwen35", "refact", "starcoder").flatMap(v -> VocabTestVectors.bundled(v).stream()));
    }

    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("vectors")
    void tokenizesLikeLlamaCpp(VocabTestVectors.Case test) {
        Tokenizer tokenizer = TestTokenizers.gguf(test.gguf());
        assertArrayEquals(test.ids(), tokenizer.encode(test.text(), false, false));
    }

    /** BERT's WordPiece vocabulary belongs to an embedding model, not to one that generates text. */
    @Test
    void wordPieceVocabularyIsRefusedByName() {
        VocabTestVectors.Case any = VocabTestVectors.bundled("bert-bge").getFirst();
        assertThatThrownBy(() -> TestTokenizers.gguf(any.gguf()))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("'bert'")
                .hasMessageContaining("WordPiece")
                .hasMessageContaining("supported: llama");
    }

    /** nomic-bert-moe's Unigram (T5-style) vocabulary belongs to an embedding model too. */
    @Test
    void unigramVocabularyIsRefusedByName() {
        VocabTestVectors.Case any = VocabTestVectors.bundled("nomic-bert-moe").getFirst();
        assertThatThrownBy(() -> TestTokenizers.gguf(any.gguf()))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("'t5'")
                .hasMessageContaining("Unigram")
                .hasMessageContaining("supported: llama");
    }
}
