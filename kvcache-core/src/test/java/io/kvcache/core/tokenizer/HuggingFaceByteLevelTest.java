package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The byte-level path of tokenizer.json: the three byte-level vocabularies written back as
 * tokenizer.json files the way their HF originals are laid out (GPT-2: ByteLevel with its regex;
 * Llama 3 and Qwen2: a Split regex then ByteLevel without one; Llama 3 adds BOS by its template),
 * checked against llama.cpp's test vectors, which were produced with the HF tokenizers, and against
 * the GGUF tokenizer with special tokens and BOS; a continuation encodes as a whole text (no prefix space).
 */
class HuggingFaceByteLevelTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Map<String, String> SPLIT_REGEX = Map.of(
            "llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();
    private static Path folder;

    static Stream<VocabTestVectors.Case> vectors() {
        return Stream.of("llama-bpe", "qwen2", "gpt-2").flatMap(v -> VocabTestVectors.of(v).stream());
    }

    @AfterAll
    static void deleteFolder() throws IOException {
        if (folder != null) {
            try (Stream<Path> files = Files.walk(folder)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("vectors")
    void tokenizesLikeTheHfOriginal(VocabTestVectors.Case test) {
        Tokenizer hf = TOKENIZERS.computeIfAbsent(test.vocab(), HuggingFaceByteLevelTest::writeAndRead);
        assertArrayEquals(test.ids(), hf.encode(test.text(), false, false));
        assertArrayEquals(test.ids(), hf.encodeContinuation(test.text(), false), "no prefix space to leave out");
        Tokenizer gguf = TestTokenizers.gguf(VocabTestVectors.vocabFile(test.vocab()));
        String withSpecial = "<|endoftext|>" + test.text() + "<|im_end|>";
        assertArrayEquals(gguf.encode(withSpecial, true, true), hf.encode(withSpecial, true, true));
        assertEquals(gguf.decode(test.ids()), hf.decode(test.ids()));
    }

    private static synchronized Tokenizer writeAndRead(String vocab) {
        try (GgufFile gguf = GgufFile.open(SharedData.require(VocabTestVectors.vocabFile(vocab)))) {
            if (folder == null) {
                folder = Files.createTempDirectory("kvcache-hf-bytelevel");
            }
            Path dir = Files.createDirectories(folder.resolve(vocab));
            JSON.writeValue(dir.resolve("tokenizer.json"), tokenizerJson(vocab, gguf.metadata()));
            return Tokenizers.fromHuggingFace(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode tokenizerJson(String vocab, GgufMetadata metadata) {
        String[] tokens = metadata.strings("tokenizer.ggml.tokens").orElseThrow();
        int[] types = metadata.ints("tokenizer.ggml.token_type").orElseThrow();
        ObjectNode root = JSON.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < tokens.length; id++) {
            if (types[id] == 3 || types[id] == 4) {
                added.addObject().put("id", id).put("content", tokens[id]).put("special", types[id] == 3)
                        .put("normalized", types[id] != 3).put("lstrip", false).put("rstrip", false).put("single_word", false);
            }
        }
        root.putNull("normalizer");
        ObjectNode byteLevel = JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", !SPLIT_REGEX.containsKey(vocab));
        if (SPLIT_REGEX.containsKey(vocab)) {
            ObjectNode sequence = root.putObject("pre_tokenizer").put("type", "Sequence");
            ArrayNode steps = sequence.putArray("pretokenizers");
            ObjectNode split = steps.addObject().put("type", "Split");
            split.putObject("pattern").put("Regex", SPLIT_REGEX.get(vocab));
            split.put("behavior", "Isolated").put("invert", false);
            steps.add(byteLevel);
        } else {
            root.set("pre_tokenizer", byteLevel);
        }
        root.putObject("decoder").put("type", "ByteLevel");
        if (vocab.equals("llama-bpe")) {
            // Llama 3's tokenizer.json adds <|begin_of_text|> through its post-processor template
            ObjectNode template = root.putObject("post_processor").put("type", "TemplateProcessing");
            ArrayNode single = template.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            template.putObject("special_tokens").putObject("<|begin_of_text|>").putArray("ids").add(128000);
        }
        ObjectNode model = root.putObject("model").put("type", "BPE").put("byte_fallback", false)
                .put("ignore_merges", vocab.equals("llama-bpe"));
        ObjectNode vocabulary = model.putObject("vocab");
        for (int id = 0; id < tokens.length; id++) {
            vocabulary.put(tokens[id], id);
        }
        ArrayNode merges = model.putArray("merges");
        for (String merge : metadata.strings("tokenizer.ggml.merges").orElseThrow()) {
            merges.add(merge);
        }
        return root;
    }
}
