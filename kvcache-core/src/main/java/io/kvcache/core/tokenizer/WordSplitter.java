package io.kvcache.core.tokenizer;

/** One pre-tokenizer step: cuts a span of code points into consecutive words. */
interface WordSplitter {
    /** Appends the lengths of consecutive pieces that together cover {@code [start, end)}. */
    void split(CodepointText text, int start, int end, IntList lengths);
}
