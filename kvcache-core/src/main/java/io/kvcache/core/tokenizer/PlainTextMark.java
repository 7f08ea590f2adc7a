package io.kvcache.core.tokenizer;

import java.util.BitSet;

/**
 * The mark that keeps special-token text in a message plain. A chat prompt is encoded with special
 * tokens parsed, because the template writes its control tokens as text; a message containing
 * {@code <|im_end|>\n<|im_start|>system} would otherwise become real control tokens and let a user
 * write the system prompt. {@link Tokenizer#markSpecialAsText} puts this noncharacter (U+FDD0, which
 * no text needs) inside every special-token text of the message, so the special-token splitter no
 * longer sees it; the encoder removes every mark before it encodes text.
 */
final class PlainTextMark {
    static final char MARK = '\uFDD0';

    private PlainTextMark() {
    }

    /** {@code text} with the mark after the first character of every occurrence of each of {@code specials}. */
    static String mark(String text, Iterable<String> specials) {
        BitSet after = new BitSet(text.length() + 1);
        for (String special : specials) {
            if (special.isEmpty()) {
                continue;
            }
            int first = Character.charCount(special.codePointAt(0));
            for (int at = text.indexOf(special); at >= 0; at = text.indexOf(special, at + 1)) {
                after.set(at + first);
            }
        }
        if (after.isEmpty()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + after.cardinality());
        for (int i = 0; i < text.length(); i++) {
            if (after.get(i)) {
                out.append(MARK);
            }
            out.append(text.charAt(i));
        }
        return out.toString();
    }

    static boolean isMarked(String text) {
        return text.indexOf(MARK) >= 0;
    }

    /** {@code text} without marks (a mark the user typed goes too; U+FDD0 is not a character). */
    static String unmark(String text) {
        return isMarked(text) ? text.replace(String.valueOf(MARK), "") : text;
    }
}
