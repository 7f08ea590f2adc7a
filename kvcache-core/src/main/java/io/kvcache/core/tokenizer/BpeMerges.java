package io.kvcache.core.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * Ranked BPE merge rules: the adjacent pair with the lowest rank merges first (the leftmost among
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

    /** Merges {@code word}, whose initial symbols are its code points; returns the lengths in chars of the final symbols. */
    IntList merge(String word) {
        return SymbolMerger.merge(word, this::rank);
    }

    private double rank(String word, int leftStart, int rightStart, int rightEnd) {
        Integer rank = ranks.get(word.substring(leftStart, rightStart) + ' ' + word.substring(rightStart, rightEnd));
        return rank == null ? SymbolMerger.NO_MERGE : rank;
    }
}
