package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@link Tokenizer#encodeContinuation}: text that follows text already encoded gets no prefix space
 * at its start, and appended to the earlier ids it spells the joined text.
 */
class ContinuationEncodingTest {
    private static final String STORY = "Once upon a time, there was a little girl named Lily. She liked to play.";

    static Stream<VocabTestVectors.Case> bytePairVectors() {
        return Stream.of("llama-bpe", "qwen2", "gpt-2").flatMap(v -> VocabTestVectors.of(v).stream());
    }

    static Stream<VocabTestVectors.Case> sentencePieceVectors() {
        return VocabTestVectors.of("llama-spm").stream().filter(c -> !c.text().isEmpty());
    }

    /** llama.cpp adds no prefix to byte-level BPE input, so a continuation encodes as a whole text does. */
    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("bytePairVectors")
    void byteLevelContinuationsEncodeLikeLlamaCpp(VocabTestVectors.Case test) {
        Tokenizer tokenizer = TestTokenizers.gguf(VocabTestVectors.vocabFile(test.vocab()));
        assertArrayEquals(test.ids(), tokenizer.encodeContinuation(test.text(), false));
    }

    /**
     * llama.cpp's SentencePiece path puts a space before the text (the dummy prefix); a continuation
     * adds none, so the continuation of that space and the text gives llama.cpp's ids.
     */
    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("sentencePieceVectors")
    void sentencePieceContinuationsAddNoDummyPrefix(VocabTestVectors.Case test) {
        Tokenizer tokenizer = TestTokenizers.gguf(VocabTestVectors.vocabFile(test.vocab()));
        assertArrayEquals(test.ids(), tokenizer.encodeContinuation(" " + test.text(), false));
    }

    @Test
    void aContinuationStartsMidTextAndAfterASpecialTokenAsEncodeDoes() {
        Tokenizer tokenizer = TestTokenizers.gguf("models/tiny/tinystories-656k.gguf");
        int[] once = tokenizer.encodeContinuation("Once", false);
        assertFalse(new String(tokenizer.tokenBytes(once[0])).startsWith(" "), "no space before a continued word");
        assertEquals("Once", tokenizer.decode(once));
        String afterSpecial = "<|end_story|>Once upon a time";
        assertArrayEquals(tokenizer.encode(afterSpecial, false, true), tokenizer.encodeContinuation(afterSpecial, true));
    }

    /** Cut anywhere, the ids of the start followed by the continuation of the rest spell the whole text. */
    @Test
    void theStartsIdsAndTheContinuationSpellTheJoinedText() {
        Tokenizer spm = TestTokenizers.gguf("models/tiny/tinystories-656k.gguf");
        Tokenizer hf = Tokenizers.fromHuggingFace(SharedData.require("models/tiny/tinystories-656k-hf"));
        Tokenizer qwen = TestTokenizers.gguf(VocabTestVectors.vocabFile("qwen2"));
        String chat = "<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\nHi! How are you?<|im_end|>\n";
        assertAll(IntStream.range(1, STORY.length()).boxed().flatMap(cut -> Stream.of(
                () -> assertJoined(spm, STORY, cut, false),
                () -> assertJoined(hf, STORY, cut, false))));
        assertAll(IntStream.range(1, chat.length()).mapToObj(cut -> () -> assertJoined(qwen, chat, cut, true)));
    }

    /** The Hugging Face path leaves out its Prepend normalizer at a continuation's start, as the GGUF path its dummy prefix. */
    @Test
    void huggingFaceContinuationsMatchTheGgufConversion() {
        Tokenizer hf = Tokenizers.fromHuggingFace(SharedData.require("models/tiny/tinystories-656k-hf"));
        Tokenizer gguf = TestTokenizers.gguf("models/tiny/tinystories-656k.gguf");
        for (String text : new String[] {STORY, " " + STORY, "ball.\nThe end", "  two spaces"}) {
            assertArrayEquals(gguf.encodeContinuation(text, false), hf.encodeContinuation(text, false), text);
        }
        assertArrayEquals(gguf.encode(STORY, false, false), hf.encodeContinuation(" " + STORY, false));
    }

    private static void assertJoined(Tokenizer tokenizer, String text, int cut, boolean parseSpecial) {
        int[] start = tokenizer.encode(text.substring(0, cut), true, parseSpecial);
        int[] rest = tokenizer.encodeContinuation(text.substring(cut), parseSpecial);
        int[] joined = IntStream.concat(Arrays.stream(start), Arrays.stream(rest)).toArray();
        assertEquals(tokenizer.decode(tokenizer.encode(text, true, parseSpecial)), tokenizer.decode(joined), "cut at " + cut);
    }
}
