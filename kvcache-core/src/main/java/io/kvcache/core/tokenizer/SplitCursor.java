package io.kvcache.core.tokenizer;

/**
 * Helper for the hand-written splitters: reads code points and flags within one span (outside it
 * there is nothing: code point -1, flags 0, which is how llama.cpp's custom splitters see the
 * span's edges) and emits pieces that end at a given position.
 */
final class SplitCursor {
    private final CodepointText text;
    private final int start;
    private final int end;
    private final IntList lengths;
    private int pieceStart;

    SplitCursor(CodepointText text, int start, int end, IntList lengths) {
        this.text = text;
        this.start = start;
        this.end = end;
        this.lengths = lengths;
        this.pieceStart = start;
    }

    int codepoint(int pos) {
        return pos >= start && pos < end ? text.codepoint(pos) : -1;
    }

    int flags(int pos) {
        return pos >= start && pos < end ? text.flags(pos) : 0;
    }

    boolean is(int pos, int flag) {
        return (flags(pos) & flag) != 0;
    }

    /** Ends the current piece at {@code pos} (nothing is emitted for an empty piece); returns {@code pos}. */
    int emit(int pos) {
        if (pos > pieceStart) {
            lengths.add(pos - pieceStart);
        }
        pieceStart = pos;
        return pos;
    }

    /** Matches an English contraction ('s 't 'm 'd 're 've 'll) at {@code pos}; returns its length or 0. */
    int contraction(int pos, boolean ignoreCase) {
        if (codepoint(pos) != '\'' || pos + 1 >= end) {
            return 0;
        }
        int next = lower(codepoint(pos + 1), ignoreCase);
        if (next == 's' || next == 't' || next == 'm' || next == 'd') {
            return 2;
        }
        if (pos + 2 < end) {
            int nextNext = lower(codepoint(pos + 2), ignoreCase);
            if ((next == 'r' && nextNext == 'e') || (next == 'v' && nextNext == 'e') || (next == 'l' && nextNext == 'l')) {
                return 3;
            }
        }
        return 0;
    }

    private static int lower(int cp, boolean ignoreCase) {
        return ignoreCase ? Character.toLowerCase(cp) : cp;
    }
}
