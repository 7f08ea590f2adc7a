package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.format.GgufMetadata;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Set;

/** Builds a {@link LlamaCppTokenizer} from GGUF {@code tokenizer.ggml.*} metadata with llama.cpp's defaults and fix-ups. */
final class GgufTokenizerReader {
    private static final String PREFIX = "tokenizer.ggml.";

    /** A fill-in-the-middle marker kind: its metadata key, the texts that identify it, and whether it ends generation. */
    private record FimMarker(String key, Set<String> texts, boolean endsGeneration) {
    }

    private static final List<FimMarker> FIM_MARKERS = List.of(
            new FimMarker("fim_pre_token_id", Set.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>",
                    "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"), false),
            new FimMarker("fim_suf_token_id", Set.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>",
                    "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"), false),
            new FimMarker("fim_mid_token_id", Set.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>",
                    "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"), false),
            new FimMarker("fim_pad_token_id", Set.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"), true),
            new FimMarker("fim_rep_token_id", Set.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"), true),
            new FimMarker("fim_sep_token_id", Set.of("<|file_sep|>"), true));

    /** How a vocabulary's text becomes tokens, by its tokenizer.ggml.model. */
    private enum Kind { SENTENCE_PIECE, BYTE_LEVEL_BPE, ESCAPED_SPACE_BPE }

    private GgufTokenizerReader() {
    }

    static Tokenizer read(GgufMetadata metadata) {
        String model = metadata.requireString(PREFIX + "model");
        Kind kind = switch (model) {
            case "llama" -> Kind.SENTENCE_PIECE;
            case "gpt2" -> Kind.BYTE_LEVEL_BPE;
            case "gemma4" -> Kind.ESCAPED_SPACE_BPE;
            default -> throw new ModelFormatException("unsupported tokenizer model '" + UntrustedText.quote(model) + "' ("
                    + PREFIX + "model)" + switch (model) {
                        case "bert" -> ", a WordPiece vocabulary of BERT-style embedding models";
                        case "t5" -> ", a Unigram vocabulary of T5/XLM-RoBERTa-style encoder models";
                        default -> "";
                    } + "; supported: llama (SentencePiece), gpt2 (byte-level BPE) and gemma4 (BPE over"
                    + " SentencePiece-style text), the vocabularies of the text-generation models kvcache runs");
        };
        boolean spm = kind == Kind.SENTENCE_PIECE;
        String[] texts = metadata.strings(PREFIX + "tokens")
                .orElseThrow(() -> new ModelFormatException("GGUF metadata '" + PREFIX + "tokens' is missing"))
                .clone();
        if (texts.length == 0 || texts.length > Tokenizers.MAX_VOCABULARY) {
            throw new ModelFormatException("GGUF metadata '" + PREFIX + "tokens' has " + texts.length
                    + " tokens, expected 1 to " + Tokenizers.MAX_VOCABULARY);
        }
        for (int id = 0; id < texts.length; id++) {
            if (texts[id].isEmpty()) {
                texts[id] = "[EMPTY_" + id + "]"; // llama.cpp's stand-in, so every token stays addressable by text
            }
        }
        TokenType[] types = types(metadata, texts.length);
        float[] scores = scores(metadata, texts.length);
        BpePreset preset = kind == Kind.BYTE_LEVEL_BPE ? BpePreset.forGguf(metadata.string(PREFIX + "pre").orElse("")) : null;

        // llama.cpp's default ids when the file has none: SPM 1/2; BPE 11/11, a legacy of its first BPE model; gemma4 none
        int bos = specialId(metadata, "bos_token_id", switch (kind) {
            case SENTENCE_PIECE -> 1;
            case BYTE_LEVEL_BPE -> 11;
            case ESCAPED_SPACE_BPE -> -1;
        }, texts.length);
        int eos = specialId(metadata, "eos_token_id", switch (kind) {
            case SENTENCE_PIECE -> 2;
            case BYTE_LEVEL_BPE -> 11;
            case ESCAPED_SPACE_BPE -> -1;
        }, texts.length);
        BitSet endOfGeneration = endOfGeneration(metadata, texts, types);
        if (eos >= 0) {
            endOfGeneration.set(eos);
        }

        // llama.cpp turns BOS on for gemma4 even where the file says false
        boolean addBos = kind == Kind.ESCAPED_SPACE_BPE
                || metadata.booleanOr(PREFIX + "add_bos_token", spm || preset.addBosByDefault());
        boolean addEos = metadata.booleanOr(PREFIX + "add_eos_token", false);
        if (addBos && bos < 0 || addEos && eos < 0) {
            throw new ModelFormatException(PREFIX + (addBos && bos < 0 ? "add_bos_token" : "add_eos_token")
                    + " is true, but the token id is not set");
        }

        Vocabulary vocabulary = new Vocabulary("GGUF metadata", texts, types, scores);
        SpecialTokens specials = new SpecialTokens(bos, eos, addBos, addEos, endOfGeneration);
        SpecialTokenSplitter splitter = new SpecialTokenSplitter(vocabulary,
                SpecialTokenSplitter.llamaSpecialTokens(vocabulary), new BitSet(), new BitSet());
        if (spm) {
            boolean addSpacePrefix = metadata.booleanOr(PREFIX + "add_space_prefix", true);
            return new LlamaCppTokenizer(vocabulary, specials, TokenPieces.sentencePiece(vocabulary), splitter,
                    new SpmEncoder(vocabulary, addSpacePrefix));
        }
        BpeMerges merges = BpeMerges.fromPairs(metadata.strings(PREFIX + "merges").orElseThrow(() -> new ModelFormatException(
                "GGUF metadata '" + PREFIX + "merges' is missing (required for " + model + " tokenizers)")));
        if (kind == Kind.ESCAPED_SPACE_BPE) {
            return new LlamaCppTokenizer(vocabulary, specials, TokenPieces.sentencePiece(vocabulary), splitter,
                    new EscapedSpaceBpeEncoder(vocabulary, merges));
        }
        return new LlamaCppTokenizer(vocabulary, specials, TokenPieces.byteLevel(vocabulary), splitter,
                new ByteLevelBpeEncoder(vocabulary, merges, preset.preTokenizer(), preset.ignoreMerges()));
    }

    /**
     * llama.cpp's end-of-generation set without EOS: the eot/eom ids, the fill-in-the-middle pad/repo/
     * separator markers and every token whose text is a known end marker. Marker tokens found by text
     * become CONTROL tokens (in {@code types}), as llama.cpp overrides their type.
     */
    private static BitSet endOfGeneration(GgufMetadata metadata, String[] texts, TokenType[] types) {
        BitSet endOfGeneration = new BitSet(texts.length);
        for (String key : new String[] {"eot_token_id", "eom_token_id"}) {
            int id = specialId(metadata, key, -1, texts.length);
            if (id >= 0) {
                endOfGeneration.set(id);
            }
        }
        for (FimMarker marker : FIM_MARKERS) {
            BitSet found = new BitSet(texts.length);
            int keyed = specialId(metadata, marker.key(), -1, texts.length);
            if (keyed >= 0) {
                found.set(keyed);
            } else {
                for (int id = 0; id < texts.length; id++) {
                    if (marker.texts().contains(texts[id])) {
                        types[id] = TokenType.CONTROL;
                        found.set(id);
                    }
                }
            }
            if (marker.endsGeneration()) {
                endOfGeneration.or(found);
            }
        }
        for (int id = 0; id < texts.length; id++) {
            if (EndOfGeneration.isMarker(texts[id])) {
                types[id] = TokenType.CONTROL;
                endOfGeneration.set(id);
            }
        }
        return endOfGeneration;
    }

    private static TokenType[] types(GgufMetadata metadata, int n) {
        TokenType[] types = new TokenType[n];
        int[] values = metadata.ints(PREFIX + "token_type").orElse(null);
        if (values != null && values.length < n) {
            throw new ModelFormatException(PREFIX + "token_type has " + values.length + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            types[i] = values == null ? TokenType.NORMAL : TokenType.fromGguf(values[i]);
        }
        return types;
    }

    private static float[] scores(GgufMetadata metadata, int n) {
        Object value = metadata.get(PREFIX + "scores").orElse(null);
        float[] scores = switch (value) {
            case null -> new float[n];
            case float[] f -> f;
            case int[] ints -> {
                float[] f = new float[ints.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = ints[i];
                }
                yield f;
            }
            default -> throw new ModelFormatException(PREFIX + "scores must be an array of float32 or int32");
        };
        if (scores.length < n) {
            throw new ModelFormatException(PREFIX + "scores has " + scores.length + " entries for " + n + " tokens");
        }
        return Arrays.copyOf(scores, n);
    }

    /** The id under {@code tokenizer.ggml.<key>}; llama.cpp keeps the default when the stored id is out of range. */
    private static int specialId(GgufMetadata metadata, String key, int fallback, int n) {
        int id = fallback < n ? fallback : -1;
        long stored = metadata.integer(PREFIX + key).orElse(-1L);
        return stored >= 0 && stored < n ? (int) stored : id;
    }
}
