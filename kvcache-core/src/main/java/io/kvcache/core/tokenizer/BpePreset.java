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

    /** Han ideographs, the ranges from U+0800 up to them, and Hangul syllables: runs of these are one word. */
    private static final String CJK = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
    /** Letters of cased scripts as DeepSeek LLM's pre-tokenizer lists them (Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee, Glagolitic, Coptic, Deseret, Osage, Old Hungarian, Warang Citi, Adlam and their fullwidth/ligature forms). */
    private static final String DEEPSEEK_LETTERS = "[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF"
            + "\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C"
            + "\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5"
            + "\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15"
            + "\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4"
            + "\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4"
            + "\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D"
            + "\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4"
            + "\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E"
            + "\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\\x{10400}-\\x{1044F}"
            + "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
            + "\\x{1E900}-\\x{1E943}]+";

    /** BLOOM's and Poro's words: an optional space, then anything but whitespace, parentheses, '|' and sentence punctuation. */
    private static final String BLOOM = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";

    /** The preset for a tokenizer.ggml.pre name ("" when the file has none, which llama.cpp reads as "default"). */
    static BpePreset forGguf(String pre) {
        return switch (pre) {
            case "", "default" -> new BpePreset(regexes(
                    "[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"), false, false);
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2" ->
                    new BpePreset(new PreTokenizer(List.of(new Llama3WordSplitter())), true, true);
            case "dbrx", "smaug-bpe", "chatglm-bpe", "glm4" ->
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
            case "deepseek-llm" -> new BpePreset(regexes("[\r\n]", "\\s?" + DEEPSEEK_LETTERS,
                    "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+", "\\s+$", CJK, "\\p{N}+"),
                    false, false);
            case "deepseek-coder" -> new BpePreset(regexes("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}"),
                    false, false);
            case "bloom", "poro-chat", "gpt3-finnish" -> new BpePreset(regexes(BLOOM), false, false);
            case "viking" -> new BpePreset(regexes(BLOOM, "\\p{N}"), false, false);
            case "falcon" -> new BpePreset(regexes("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), false, false);
            default -> throw new ModelFormatException("unsupported BPE pre-tokenizer '" + UntrustedText.quote(pre)
                    + "' (tokenizer.ggml.pre); supported: default, llama3/llama-bpe family, gpt-2 family, qwen2 family,"
                    + " qwen35, smollm/starcoder family, falcon, deepseek-llm, deepseek-coder, dbrx, smaug-bpe, chatglm-bpe/glm4,"
                    + " bloom/poro-chat/gpt3-finnish, viking, tekken, gpt-4o, llama4");
        };
    }

    /**
     * Regexes run in order; the GPT-2 one uses llama.cpp's hand-written splitter, as llama.cpp does,
     * and one without a {@code \p{..}} category runs on the code points instead of the collapsed text.
     */
    private static PreTokenizer regexes(String... regexes) {
        return new PreTokenizer(Arrays.stream(regexes)
                .map(r -> r.equals(GPT2) ? new Gpt2WordSplitter()
                        : CodepointRegexSplitter.appliesTo(r) ? new CodepointRegexSplitter(r)
                        : (WordSplitter) new CategoryRegexSplitter(r))
                .toList());
    }
}
