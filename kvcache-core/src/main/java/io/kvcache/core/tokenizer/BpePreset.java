package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;

import java.util.Arrays;
import java.util.List;

/**
 * What llama.cpp derives from a GGUF's {@code tokenizer.ggml.pre} name for a byte-level BPE
 * vocabulary: the pre-tokenizer regexes, whether a word that is itself a token skips merging
 * (ignore_merges), and the add_bos default used when the file does not say.
 */
record BpePreset(PreTokenizer preTokenizer, boolean ignoreMerges, boolean addBosByDefault) {
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final String QWEN35 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String TEKKEN = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
            + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?";
    private static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" + CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTRACTIONS
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** The preset for a tokenizer.ggml.pre name ("" when the file has none, which llama.cpp reads as "default"). */
    static BpePreset forGguf(String pre) {
        return switch (pre) {
            case "", "default" -> new BpePreset(regexes(
                    "[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"), false, false);
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2" ->
                    new BpePreset(new PreTokenizer(List.of(new Llama3WordSplitter())), true, true);
            case "dbrx", "smaug-bpe" ->
                    new BpePreset(new PreTokenizer(List.of(new Llama3WordSplitter())), false, false);
            case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                 "modern-bert", "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4" ->
                    new BpePreset(new PreTokenizer(List.of(new Gpt2WordSplitter())), false, false);
            case "qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan", "solar-open" ->
                    new BpePreset(regexes(QWEN2), false, false);
            case "qwen35" -> new BpePreset(regexes(QWEN35), false, false);
            case "tekken" -> new BpePreset(regexes(TEKKEN), true, true);
            case "gpt-4o", "llama4" -> new BpePreset(regexes(GPT4O), false, false);
            case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b" ->
                    new BpePreset(new PreTokenizer(List.of(new CategoryRegexSplitter("\\p{N}"), new Gpt2WordSplitter())),
                            false, false);
            case "falcon" -> new BpePreset(regexes("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), false, false);
            default -> throw new ModelFormatException("unsupported BPE pre-tokenizer '" + UntrustedText.quote(pre)
                    + "' (tokenizer.ggml.pre); supported: default, llama3/llama-bpe family, gpt-2 family, qwen2 family,"
                    + " qwen35, smollm/starcoder family, falcon, dbrx, smaug-bpe, tekken, gpt-4o, llama4");
        };
    }

    /** Regexes run in order; the GPT-2 one uses llama.cpp's hand-written splitter, as llama.cpp does. */
    private static PreTokenizer regexes(String... regexes) {
        return new PreTokenizer(Arrays.stream(regexes)
                .map(r -> r.equals(GPT2) ? new Gpt2WordSplitter() : (WordSplitter) new CategoryRegexSplitter(r))
                .toList());
    }
}
