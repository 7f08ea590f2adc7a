package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The original HF tokenizer.json of TinyStories-656K against llama.cpp's results for the same model converted to GGUF. */
class HuggingFaceTokenizerTest {
    private static Tokenizer huggingFace() {
        return Tokenizers.fromHuggingFace(SharedData.require("models/tiny/tinystories-656k-hf"));
    }

    static Stream<ReferenceJson.Entry> entries() {
        return ReferenceJson.entries().filter(e -> e.reference().equals("tinystories-656k"));
    }

    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("entries")
    void matchesLlamaCppOnTheConvertedModel(ReferenceJson.Entry entry) {
        Tokenizer tokenizer = huggingFace();
        String text = entry.text();
        if (entry.isError()) {
            TokenizationException e = assertThrows(TokenizationException.class, () -> tokenizer.encode(text, false, true));
            assertTrue(e.getMessage().contains("U+"), e.getMessage());
            return;
        }
        int[] ids = entry.ids("ids");
        assertAll(
                () -> assertArrayEquals(ids, tokenizer.encode(text, false, true), "ids"),
                () -> assertArrayEquals(entry.ids("ids_add_special"), tokenizer.encode(text, true, true), "ids_add_special"),
                () -> assertArrayEquals(entry.ids("ids_no_parse_special"), tokenizer.encode(text, false, false),
                        "ids_no_parse_special"),
                () -> {
                    for (int i = 0; i < ids.length; i++) {
                        assertArrayEquals(entry.piece(i), tokenizer.tokenBytes(ids[i]), "piece " + i);
                    }
                },
                () -> assertEquals(entry.json().get("detokenized").asString(), tokenizer.decode(ids), "detokenized"));
    }

    @Test
    void specialTokensAndFlagsMatchTheGgufConversion() {
        Tokenizer hf = huggingFace();
        Tokenizer gguf = TestTokenizers.gguf("models/tiny/tinystories-656k.gguf");
        assertAll(
                () -> assertEquals(gguf.vocabularySize(), hf.vocabularySize()),
                () -> assertEquals(gguf.bosId(), hf.bosId()),
                () -> assertEquals(gguf.eosId(), hf.eosId()),
                () -> assertEquals(gguf.addsBos(), hf.addsBos()),
                () -> assertEquals(gguf.addsEos(), hf.addsEos()),
                () -> assertTrue(hf.isEndOfGeneration(hf.eosId())),
                () -> assertFalse(hf.isEndOfGeneration(hf.bosId())),
                () -> {
                    for (int id = 0; id < hf.vocabularySize(); id++) {
                        assertEquals(gguf.tokenText(id), hf.tokenText(id), "text of " + id);
                        assertEquals(gguf.tokenType(id), hf.tokenType(id), "type of " + id);
                        assertArrayEquals(gguf.tokenBytes(id), hf.tokenBytes(id), "bytes of " + id);
                    }
                });
    }

    /**
     * This tokenizer.json marks its special tokens "normalized", so HF matches them after the
     * normalizer has prepended '▁' to the whole text: the text starts with token 80 '▁', then 1.
     */
    @Test
    void specialTokenTextIsParsedOnlyWhenAsked() {
        Tokenizer hf = huggingFace();
        Tokenizer gguf = TestTokenizers.gguf("models/tiny/tinystories-656k.gguf");
        String text = "<|start_story|>Once upon a time<|end_story|>";
        int[] parsed = hf.encode(text, false, true);
        assertEquals(80, parsed[0]);
        assertEquals(1, parsed[1]);
        assertEquals(2, parsed[parsed.length - 1]);
        assertArrayEquals(gguf.encode(text, false, false), hf.encode(text, false, false));
    }

    @Test
    void evalTextTokenizesAsTheGgufConversion() throws IOException {
        String text = Files.readString(SharedData.require("eval/tinystories-eval.txt"));
        Tokenizer gguf = TestTokenizers.gguf("models/tiny/tinystories-656k.gguf");
        int[] expected = gguf.encode(text, true, false);
        assertArrayEquals(expected, huggingFace().encode(text, true, false));
        assertEquals(" " + text, gguf.decode(Arrays.copyOfRange(expected, 1, expected.length)));
    }
}
