package io.kvcache.core.tokenizer;

import static io.kvcache.core.tokenizer.CodepointFlags.LETTER;
import static io.kvcache.core.tokenizer.CodepointFlags.NUMBER;
import static io.kvcache.core.tokenizer.CodepointFlags.WHITESPACE;

/**
 * GPT-2's pre-tokenizer {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+},
 * written out by hand step for step as llama.cpp does (unicode_regex_split_custom_gpt2), so edge
 * cases such as trailing whitespace split exactly as there.
 */
final class Gpt2WordSplitter implements WordSplitter {
    @Override
    public void split(CodepointText text, int start, int end, IntList lengths) {
        SplitCursor in = new SplitCursor(text, start, end, lengths);
        int pos = start;
        while (pos < end) {
            int cp = in.codepoint(pos);
            int contraction = in.contraction(pos, false);
            if (contraction > 0) {
                pos = in.emit(pos + contraction);
                continue;
            }
            int skipSpace = cp == ' ' ? 1 : 0;
            int flags = in.flags(pos + skipSpace);
            if ((flags & LETTER) != 0 || (flags & NUMBER) != 0) {
                int kind = flags & (LETTER | NUMBER);
                pos += skipSpace;
                while (in.is(pos, kind)) {
                    pos++;
                }
                pos = in.emit(pos);
                continue;
            }
            if (flags != 0 && (flags & (WHITESPACE | LETTER | NUMBER)) == 0) {
                pos += skipSpace;
                while (in.flags(pos) != 0 && (in.flags(pos) & (WHITESPACE | LETTER | NUMBER)) == 0) {
                    pos++;
                }
                pos = in.emit(pos);
                continue;
            }
            int whitespace = 0;
            while (in.is(pos + whitespace, WHITESPACE)) {
                whitespace++;
            }
            if (whitespace > 1 && in.codepoint(pos + whitespace) != -1) {
                // \s+(?!\S): leave the last whitespace character to the word that follows
                pos = in.emit(pos + whitespace - 1);
            } else if (whitespace > 0) {
                pos = in.emit(pos + whitespace);
            } else {
                pos = in.emit(pos + 1);
            }
        }
    }
}
