package io.kvcache.core.fuzz;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.tokenizer.TokenizationException;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tokenizers meet untrusted input twice: tokenizer.json comes with the model, text comes from
 * users. Mutated tokenizer.json files load or fail with a {@link ModelFormatException}; any text
 * encodes, or fails with a {@link TokenizationException} where the vocabulary cannot spell it, and
 * decodes back without an exception.
 */
class TokenizerFuzzTest {
    private static final String[] TEXTS = {"Hello world", "Once upon a time, there was a little girl named Lily.",
            "  leading spaces\n\n\ttabs", "<s></s><unk><|im_start|>user\nhi<|im_end|>", "日本語のテキスト 😀 Ünïcödé",
            "1234567890 3.14159 $100", "'s 're 've 'll 'd", "\u0000\u0001\ufffd\ufdd0\ud800", "a".repeat(300)};

    @TempDir
    Path dir;

    @Test
    void tokenizerJsonFiles() throws IOException {
        String seed = Files.readString(SharedData.require("models/tiny/tinystories-656k-hf/tokenizer.json"));
        String byteLevel = """
                {"added_tokens": [{"id": 3, "content": "<|s|>", "special": true}],
                 "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "\\\\s+"}, "content": " "}]},
                 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                   {"type": "Split", "pattern": {"Regex": "(?i:'s|'t)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}|\\\\s+(?!\\\\S)|\\\\s+"}, "behavior": "Isolated"},
                   {"type": "Digits", "individual_digits": true}, {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
                 "decoder": {"type": "ByteLevel"},
                 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 4}, "merges": ["a b", ["Ġ", "a"]]}}""";
        List<String> dictionary = List.of("-1", "2000000000", "\"(.*a){12}$\"", "{\"Regex\": \"(?=x)\"}", "[]", "{}", "null",
                "\"Split\"", "\"Metaspace\"", "\"MergedWithNext\"", "\"Removed\"", "{\"type\": \"Sequence\", \"pretokenizers\": [",
                "\"\\\\p{L}+\"", "\"[\"", "\"\\\\\"", "\"<|s|>\"", "\"special\": true");
        Path folder = Files.createDirectories(dir.resolve("tok"));
        Path file = folder.resolve("tokenizer.json");
        Fuzzing.Report report = Fuzzing.run("tokenizer-json", List.of(seed, byteLevel),
                (s, all, random) -> Mutations.text(s, all, random, dictionary),
                input -> {
                    Files.writeString(file, input);
                    Tokenizer tokenizer = Tokenizers.fromHuggingFace(folder);
                    for (String text : TEXTS) {
                        encodeAndDecode(tokenizer, text);
                    }
                }, Set.of(ModelFormatException.class, TokenizationException.class), Fuzzing.inputs(1000), Fuzzing.TEXT);
        assertThat(report.findings()).isEmpty();
    }

    @Test
    void encodingUserText() throws IOException {
        List<Tokenizer> tokenizers = new ArrayList<>();
        for (String model : new String[] {"models/tiny/stories260K.gguf", "models/synthetic/qwen2-tiny-Q8_0.gguf",
                "models/synthetic/llama3-tiny-Q4_K_M.gguf"}) {
            try (GgufFile file = GgufFile.open(SharedData.require(model))) {
                tokenizers.add(Tokenizers.fromGguf(file.metadata()));
            }
        }
        tokenizers.add(Tokenizers.fromHuggingFace(SharedData.require("models/tiny/tinystories-656k-hf")));
        List<String> dictionary = List.of("<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<s>", "</s>", "\ufdd0",
                "\ud83d", "\ude00", "\u0000", " ", "\n", "\r\n", "'s", "123456", "\u00a0", "\u3000", "▁", "Ġ", "é", "😀");
        Fuzzing.Report report = Fuzzing.run("encode", List.of(TEXTS), (s, all, random) -> Mutations.text(s, all, random, dictionary),
                text -> {
                    for (Tokenizer tokenizer : tokenizers) {
                        encodeAndDecode(tokenizer, text);
                        tokenizer.encode(tokenizer.markSpecialAsText(text), true, true);
                    }
                }, Set.of(TokenizationException.class), Fuzzing.inputs(1000), Fuzzing.TEXT);
        assertThat(report.findings()).isEmpty();
    }

    private static void encodeAndDecode(Tokenizer tokenizer, String text) {
        for (boolean special : new boolean[] {false, true}) {
            int[] ids = tokenizer.encode(text, special, special);
            tokenizer.decode(ids);
            tokenizer.decode(tokenizer.encodeContinuation(text, special));
        }
    }
}
