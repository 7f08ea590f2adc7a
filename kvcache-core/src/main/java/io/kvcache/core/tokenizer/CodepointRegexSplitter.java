package io.kvcache.core.tokenizer;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;

/**
 * A pre-tokenizer regex without {@code \p{..}} classes, run the way llama.cpp runs those: on the
 * code points themselves (its regex may name non-ASCII ranges such as CJK ideographs), with every
 * non-ASCII whitespace code point seen as U+000B and {@code \s} meaning ASCII whitespace, U+000B
 * included. Each word of the previous step is matched on its own, so {@code $} is the word's end.
 * Matches and the gaps between them both become words. Runs with RE2/J, in time linear in the text.
 */
final class CodepointRegexSplitter implements WordSplitter {
    private final Pattern pattern;

    private static final String ASCII_SPACE = "\\t\\n\\x0B\\f\\r ";

    CodepointRegexSplitter(String regex) {
        this.pattern = Pattern.compile(asciiSpace(regex));
    }

    /** {@code \s} as C++'s ECMAScript regex reads it (RE2's own leaves out U+000B), inside brackets or not. */
    private static String asciiSpace(String regex) {
        StringBuilder out = new StringBuilder(regex.length() + 16);
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                char next = regex.charAt(++i);
                if (next == 's') {
                    out.append(inside ? ASCII_SPACE : "[" + ASCII_SPACE + "]");
                } else {
                    out.append(c).append(next);
                }
                continue;
            }
            if (c == '[') {
                inside = true;
            } else if (c == ']') {
                inside = false;
            }
            out.append(c);
        }
        return out.toString();
    }

    /** Whether llama.cpp runs {@code regex} on the code points (it names no {@code \p{..}} category). */
    static boolean appliesTo(String regex) {
        return !regex.contains("\\p{");
    }

    @Override
    public void split(CodepointText text, int start, int end, IntList lengths) {
        StringBuilder word = new StringBuilder(end - start);
        for (int i = start; i < end; i++) {
            int cp = text.codepoint(i);
            word.appendCodePoint(cp > 0x7F && (text.flags(i) & CodepointFlags.WHITESPACE) != 0 ? 0x0B : cp);
        }
        String s = word.toString();
        Matcher matcher = pattern.matcher(s);
        int last = 0;
        int from = 0;
        while (from <= s.length() && matcher.find(from)) {
            if (matcher.start() > last) {
                lengths.add(s.codePointCount(last, matcher.start()));
            }
            if (matcher.end() > matcher.start()) {
                lengths.add(s.codePointCount(matcher.start(), matcher.end()));
                from = matcher.end();
            } else {
                from = matcher.end() < s.length() ? s.offsetByCodePoints(matcher.end(), 1) : s.length() + 1;
            }
            last = matcher.end();
        }
        if (last < s.length()) {
            lengths.add(s.codePointCount(last, s.length()));
        }
    }
}
