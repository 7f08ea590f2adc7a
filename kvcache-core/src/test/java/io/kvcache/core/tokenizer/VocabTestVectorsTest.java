package io.kvcache.core.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** llama.cpp's tokenizer test vectors for all four shipped vocabularies, through the GGUF tokenizer. */
class VocabTestVectorsTest {
    static Stream<VocabTestVectors.Case> vectors() {
        return Stream.of("llama-spm", "llama-bpe", "qwen2", "gpt-2").flatMap(v -> VocabTestVectors.of(v).stream());
    }

    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("vectors")
    void tokenizesLikeLlamaCpp(VocabTestVectors.Case test) {
        Tokenizer tokenizer = TestTokenizers.gguf(VocabTestVectors.vocabFile(test.vocab()));
        assertArrayEquals(test.ids(), tokenizer.encode(test.text(), false, false));
    }
}
