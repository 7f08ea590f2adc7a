package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * tokenizer.json regexes come from the model file and run on every message: they must run in
 * linear time, mean what java.util.regex with Unicode classes (and Oniguruma) means, and a pattern
 * RE2 cannot run is refused when the tokenizer loads.
 */
class LinearRegexTest {
    /** The pre-tokenizer regexes of GPT-2, Llama 3 and Qwen2 as their tokenizer.json files spell them. */
    private static final List<String> REAL = List.of(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "\\w+|\\W+", "\\d+|\\D", "[\\s]+");
    private static final String ALPHABET = "aZé1٣ '\n\r\t\u00a0\u2003\u3000.,!?'sT_\u200d😀";

    @Test
    void findsWhatJavaRegexFindsOnRealPatterns() {
        Random random = new Random(12);
        for (String regex : REAL) {
            Pattern java = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
            LinearRegex linear = LinearRegex.compile(regex);
            for (int n = 0; n < 3000; n++) {
                StringBuilder text = new StringBuilder();
                int length = random.nextInt(24);
                for (int i = 0; i < length; i++) {
                    text.appendCodePoint(ALPHABET.codePoints().toArray()[random.nextInt((int) ALPHABET.codePoints().count())]);
                }
                String s = text.toString();
                List<String> expected = new ArrayList<>();
                Matcher m = java.matcher(s);
                while (m.find()) {
                    expected.add(m.start() + "-" + m.end());
                }
                List<String> actual = new ArrayList<>();
                linear.forEachMatch(s, (start, end) -> actual.add(start + "-" + end));
                assertThat(actual).as("%s on '%s'", regex, s).isEqualTo(expected);
            }
        }
    }

    @Test
    void catastrophicBacktrackingPatternRunsInLinearTime(@TempDir Path dir) throws IOException {
        String evil = "(.*a){12}$";
        Tokenizer tokenizer = Tokenizers.fromHuggingFace(write(dir, evil));
        String text = "a".repeat(40) + "!";
        int[] ids = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> tokenizer.encode(text.repeat(100), false, false));
        assertThat(ids).isNotEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a(?=b)", "(?<!x)y", "(a)\\1", "\\s+(?!\\S)", "[\\S]+"})
    void patternsRe2CannotRunAreRefusedWhenTheTokenizerLoads(String regex, @TempDir Path dir) throws IOException {
        Path folder = write(dir, regex);
        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(folder))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("cannot run in linear time");
    }

    /** A byte-level BPE tokenizer.json whose Split pre-tokenizer and Replace normalizer use {@code regex}. */
    private static Path write(Path dir, String regex) throws IOException {
        String pattern = "{\"Regex\": \"" + regex.replace("\\", "\\\\") + "\"}";
        StringBuilder vocab = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            String piece = ByteLevel.encode(new String(new byte[] {(byte) b}, java.nio.charset.StandardCharsets.ISO_8859_1));
            vocab.append(b == 0 ? "" : ",").append('"').append(piece.replace("\\", "\\\\").replace("\"", "\\\"")).append("\":").append(b);
        }
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"added_tokens": [],
                 "normalizer": {"type": "Replace", "pattern": %s, "content": "a"},
                 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                     {"type": "Split", "pattern": %s, "behavior": "Isolated", "invert": false},
                     {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
                 "decoder": {"type": "ByteLevel"},
                 "model": {"type": "BPE", "vocab": {%s}, "merges": []}}
                """.formatted(pattern, pattern, vocab));
        return dir;
    }
}
