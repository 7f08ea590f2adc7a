package io.kvcache.core.tokenizer;

import java.util.List;

/**
 * Splits text into the words that BPE merges within: each splitter in turn cuts every word the
 * previous ones produced, as llama.cpp applies a pre-tokenizer's list of regexes.
 */
final class PreTokenizer {
    private final List<WordSplitter> splitters;

    PreTokenizer(List<WordSplitter> splitters) {
        this.splitters = List.copyOf(splitters);
    }

    /** The lengths, in code points, of the consecutive words of {@code text}. */
    IntList wordLengths(CodepointText text) {
        IntList lengths = new IntList(1);
        lengths.add(text.length());
        for (WordSplitter splitter : splitters) {
            IntList next = new IntList(lengths.size() * 2);
            int start = 0;
            for (int i = 0; i < lengths.size(); i++) {
                int end = start + lengths.get(i);
                splitter.split(text, start, end, next);
                start = end;
            }
            lengths = next;
        }
        return lengths;
    }
}
