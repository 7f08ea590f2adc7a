package io.kvcache.core.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * Ranked BPE merge rules and the encoding of a word by them: the adjacent pair with the lowest rank merges first (the leftmost among
 * equals), until no adjacent pair has a rule, like llama.cpp's llm_tokenizer_bpe_session and HF
 * tokenizers' BPE model.
 */
final class BpeMerges {
    private final Map<String, Integer> ranks;

    private BpeMerges(Map<String, Integer> ranks) {
        this.ranks = ranks;
    }

    /**
     * Rules as GGUF and older tokenizer.json files store them, "left right", the rank being the
     * position; the halves are separated at the first space after the first character (as llama.cpp
     * reads them). The first of duplicate rules wins.
     */
    static BpeMerges fromPairs(String[] rules) {
        Map<String, Integer> ranks = HashMap.newHashMap(rules.length);
        for (int i = 0; i < rules.length; i++) {
            ranks.putIfAbsent(rules[i], i);
        }
        return new BpeMerges(ranks);
    }

    /** How a final symbol that is not a token is written instead (its bytes, its characters). */
    @FunctionalInterface
    interface UnknownSymbol {
        void encode(String symbol, IntList out);
    }

    /**
     * Appends the tokens of {@code word}: the word itself where {@code wholeWords} and it is a token
     * (Llama 3's ignore_merges), else its merged symbols, each its token or, without one, what
     * {@code unknown} writes for it.
     */
    void encode(String word, Vocabulary vocabulary, boolean wholeWords, IntList out, UnknownSymbol unknown) {
        if (wholeWords) {
            int id = vocabulary.id(word);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        IntList symbols = SymbolMerger.merge(word, this::rank);
        int at = 0;
        for (int s = 0; s < symbols.size(); s++) {
            String symbol = word.substring(at, at + symbols.get(s));
            at += symbols.get(s);
            int id = vocabulary.id(symbol);
            if (id >= 0) {
                out.add(id);
            } else {
                unknown.encode(symbol, out);
            }
        }
    }

    private double rank(String word, int leftStart, int rightStart, int rightEnd) {
        Integer rank = ranks.get(word.substring(leftStart, rightStart) + ' ' + word.substring(rightStart, rightEnd));
        return rank == null ? SymbolMerger.NO_MERGE : rank;
    }
}
