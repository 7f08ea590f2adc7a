package io.kvcache.core.tokenizer;

import static io.kvcache.core.tokenizer.CodepointFlags.LETTER;
import static io.kvcache.core.tokenizer.CodepointFlags.NUMBER;
import static io.kvcache.core.tokenizer.CodepointFlags.WHITESPACE;

/**
 * Llama 3's pre-tokenizer {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+},
 * written out by hand step for step as llama.cpp does (unicode_regex_split_custom_llama3).
 */
final class Llama3WordSplitter implements WordSplitter {
    @Override
    public void split(CodepointText text, int start, int end, IntList lengths) {
        SplitCursor in = new SplitCursor(text, start, end, lengths);
        int pos = start;
        while (pos < end) {
            int cp = in.codepoint(pos);
            int flags = in.flags(pos);
            int contraction = in.contraction(pos, true);
            if (contraction > 0) {
                pos = in.emit(pos + contraction);
                continue;
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (!(cp == '\r' || cp == '\n' || (flags & NUMBER) != 0)
                    && ((flags & LETTER) != 0 || in.is(pos + 1, LETTER))) {
                pos++;
                while (in.is(pos, LETTER)) {
                    pos++;
                }
                pos = in.emit(pos);
                continue;
            }
            // \p{N}{1,3}
            if ((flags & NUMBER) != 0) {
                int groupStart = pos;
                while (in.is(pos, NUMBER)) {
                    pos++;
                    if (pos - groupStart >= 3) {
                        groupStart = in.emit(pos);
                    }
                }
                pos = in.emit(pos);
                continue;
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (llama.cpp tests the unskipped code point for being in range)
            int skipSpace = cp == ' ' ? 1 : 0;
            if ((in.flags(pos + skipSpace) & (WHITESPACE | LETTER | NUMBER)) == 0) {
                pos += skipSpace;
                while (in.flags(pos) != 0 && (in.flags(pos) & (WHITESPACE | LETTER | NUMBER)) == 0) {
                    pos++;
                }
                while (in.codepoint(pos) == '\r' || in.codepoint(pos) == '\n') {
                    pos++;
                }
                pos = in.emit(pos);
                continue;
            }
            int whitespace = 0;
            int afterLastNewline = -1;
            while (in.is(pos + whitespace, WHITESPACE)) {
                int c = in.codepoint(pos + whitespace);
                if (c == '\r' || c == '\n') {
                    afterLastNewline = pos + whitespace + 1;
                }
                whitespace++;
            }
            if (afterLastNewline >= 0) {
                // \s*[\r\n]+
                pos = in.emit(afterLastNewline);
            } else if (whitespace > 1 && in.codepoint(pos + whitespace) != -1) {
                // \s+(?!\S)
                pos = in.emit(pos + whitespace - 1);
            } else if (whitespace > 0) {
                pos = in.emit(pos + whitespace);
            } else {
                pos = in.emit(pos + 1);
            }
        }
    }
}
