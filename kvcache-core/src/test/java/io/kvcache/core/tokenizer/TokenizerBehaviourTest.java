package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flags, special ids, end-of-generation sets, errors and speed on the shared vocabularies. */
class TokenizerBehaviourTest {
    private static Tokenizer vocab(String name) {
        return TestTokenizers.gguf("reference/vocab/ggml-vocab-" + name + ".gguf");
    }

    @Test
    void llama3AddsBosByDefaultAndEndsOnTurnMarkers() {
        Tokenizer t = vocab("llama-bpe");
        assertAll(
                () -> assertEquals(128000, t.bosId()),
                () -> assertEquals(128001, t.eosId()),
                () -> assertTrue(t.addsBos(), "llama-bpe pre-tokenizer implies add_bos"),
                () -> assertFalse(t.addsEos()),
                () -> assertTrue(t.isEndOfGeneration(128001)),
                () -> assertTrue(t.isEndOfGeneration(128009), "<|eot_id|>"),
                () -> assertFalse(t.isEndOfGeneration(128000)),
                () -> assertEquals(TokenType.CONTROL, t.tokenType(128009)),
                () -> assertEquals("<|eot_id|>", t.tokenText(128009)),
                () -> assertArrayEquals(new int[] {128000, 9906}, t.encode("Hello", true, true)));
    }

    @Test
    void gpt2AddsNothingAndEndsOnEndOfText() {
        Tokenizer t = vocab("gpt-2");
        assertAll(
                () -> assertFalse(t.addsBos()),
                () -> assertFalse(t.addsEos()),
                () -> assertEquals(50256, t.eosId()),
                () -> assertTrue(t.isEndOfGeneration(50256)),
                () -> assertArrayEquals(new int[] {15496}, t.encode("Hello", true, true)));
    }

    @Test
    void qwen2EndsOnImEndAndPromotesEndMarkersToControl() {
        Tokenizer t = vocab("qwen2");
        assertAll(
                () -> assertTrue(t.isEndOfGeneration(151643), "<|endoftext|>"),
                () -> assertTrue(t.isEndOfGeneration(151645), "<|im_end|>"),
                () -> assertFalse(t.isEndOfGeneration(151644), "<|im_start|>"),
                // "</s>" is an ordinary token in this vocabulary, but llama.cpp treats it as an end marker
                () -> assertEquals(TokenType.CONTROL, t.tokenType(128247)),
                () -> assertEquals(TokenType.USER_DEFINED, t.tokenType(151646)));
    }

    @Test
    void spmHasByteTokensAndAddsBos() {
        Tokenizer t = vocab("llama-spm");
        assertAll(
                () -> assertTrue(t.addsBos()),
                () -> assertEquals(1, t.bosId()),
                () -> assertEquals(2, t.eosId()),
                () -> assertEquals(TokenType.BYTE, t.tokenType(3)),
                () -> assertArrayEquals(new byte[] {0}, t.tokenBytes(3)),
                () -> assertArrayEquals(" Hello".getBytes(), t.tokenBytes(15043)),
                () -> assertArrayEquals(new int[] {1, 15043}, t.encode("Hello", true, false)),
                () -> assertArrayEquals(new int[0], t.encode("", false, false)),
                () -> assertArrayEquals(new int[] {1}, t.encode("", true, false)));
    }

    @Test
    void unencodableCharacterIsNamed() {
        Tokenizer t = TestTokenizers.gguf("models/tiny/tinystories-656k.gguf");
        TokenizationException e = assertThrows(TokenizationException.class, () -> t.encode("a café", false, false));
        assertTrue(e.getMessage().contains("'é' (U+00E9)"), e.getMessage());
    }

    @Test
    void unknownIdsAreRejected() {
        Tokenizer t = vocab("gpt-2");
        assertThrows(IndexOutOfBoundsException.class, () -> t.tokenBytes(50257));
        assertThrows(IndexOutOfBoundsException.class, () -> t.decode(new int[] {-1}));
        assertFalse(t.isEndOfGeneration(-1));
    }

    @Test
    void decodeReplacesMalformedUtf8() {
        Tokenizer t = vocab("gpt-2");
        int[] ids = t.encode("🦙", false, false);
        assertTrue(ids.length > 1, "the emoji is split into byte-level pieces");
        assertEquals("\uFFFD", t.decode(new int[] {ids[0]}));
        assertEquals("🦙", t.decode(ids));
    }

    /**
     * 64 KB of text encodes the same twice and decodes back to itself. How fast is a benchmark's
     * question, not a unit test's: the tokenizer fuzz targets bound its time per input.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "llama-bpe", "qwen2", "gpt-2"})
    void tokenizesTheEvalTextRepeatably(String name) throws IOException {
        String text = Files.readString(SharedData.require("eval/tinystories-eval.txt"));
        Tokenizer t = vocab(name);
        int[] ids = t.encode(text, true, true);
        assertArrayEquals(ids, t.encode(text, true, true));
        String decoded = t.decode(ids);
        assertTrue(decoded.endsWith(text), "round trip");
    }
}
