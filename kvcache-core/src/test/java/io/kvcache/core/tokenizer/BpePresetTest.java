package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pre-tokenizers of the GGUF pre names not covered by the shared vocabularies split as their regexes say. */
class BpePresetTest {
    private static List<String> words(String pre, String text) {
        CodepointText codepoints = new CodepointText(text);
        IntList lengths = BpePreset.forGguf(pre).preTokenizer().wordLengths(codepoints);
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < lengths.size(); i++) {
            words.add(new String(codepoints.codepoints(), start, lengths.get(i)));
            start += lengths.get(i);
        }
        return words;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            default   | "Hello World's 1234!!" | "Hello, World,',s, ,123,4,!!"
            smollm    | "Hello World's 1234!!" | "Hello, World,'s, ,1,2,3,4,!!"
            falcon    | "Hello World's 1234!!" | "Hello, World,',s, ,123,4,!!"
            qwen35    | "Hello World's 1234!!" | "Hello, World,'s, ,1,2,3,4,!!"
            tekken    | "Hello World's 1234!!" | "Hello, World,'s, ,1,2,3,4,!!"
            gpt-4o    | "Hello World's 1234!!" | "Hello, World's, ,123,4,!!"
            llama4    | "HelloWorld naïve"     | "Hello,World, naïve"
            dbrx      | "Hello World's 1234!!" | "Hello, World,'s, ,123,4,!!"
            chatglm-bpe | "Hello World's 1234!!" | "Hello, World,'s, ,123,4,!!"
            bloom     | "Hello world! (ok) 12" | "Hello, world,! (,ok,), 12"
            poro-chat | "你好。世界 ok…"       | "你好,。,世界, ok,…"
            viking    | "Hello world! (ok) 12" | "Hello, world,! (,ok,), ,1,2"
            deepseek-coder | "Hi! 世界 x1"   | "Hi,!, ,世界, x,1"
            """)
    void splitsAsTheRegexSays(String pre, String text, String expected) {
        assertEquals(List.of(expected.split(",", -1)), words(pre, text));
    }

    @Test
    void unknownPreTokenizerIsAClearError() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> BpePreset.forGguf("no-such-pre"));
        assertTrue(e.getMessage().contains("'no-such-pre'"), e.getMessage());
    }
}
