package io.kvcache.core.tokenizer;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;

/**
 * A tokenizer.json regex run by RE2/J, in time linear in the text: the patterns come from the model
 * file and run on every message, and java.util.regex backtracks without bound ({@code (.*a){12}$}
 * takes a minute on 41 characters). Patterns are written for Oniguruma with Unicode classes, so
 * {@code \s \S \d \D \w \W} are rewritten to their Unicode meaning (RE2 reads them as ASCII). RE2 has
 * no lookaround; the one form real tokenizers use, {@code \s+(?!\S)|\s+} at the end of the pattern
 * (whitespace up to, not including, the last space before a word), is run as {@code \s+} with the
 * match shortened by one character where a word follows. Any other lookaround or backreference is
 * refused with a {@link ModelFormatException}.
 */
final class LinearRegex {
    /** Java's (and Oniguruma's) Unicode White_Space, for RE2's ASCII \s. */
    private static final String SPACE = "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
    /** Java's Unicode \w: letters, marks, decimal digits, connector punctuation, joiners. */
    private static final String WORD = "\\p{L}\\p{Nl}\\p{Mn}\\p{Mc}\\p{Me}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}";
    private static final String TRAILING_SPACE_LOOKAHEAD = "\\s+(?!\\S)|\\s+";
    private static final String SPACE_GROUP = "kvcachespace";

    private final Pattern pattern;
    private final boolean trailingSpace;

    private LinearRegex(Pattern pattern, boolean trailingSpace) {
        this.pattern = pattern;
        this.trailingSpace = trailingSpace;
    }

    /** The text itself, no regex meaning. */
    static LinearRegex literal(String text) {
        return new LinearRegex(Pattern.compile(Pattern.quote(text)), false);
    }

    /** @throws ModelFormatException when the pattern is not one RE2 can run */
    static LinearRegex compile(String regex) {
        boolean trailingSpace = regex.endsWith(TRAILING_SPACE_LOOKAHEAD)
                && (regex.length() == TRAILING_SPACE_LOOKAHEAD.length()
                || regex.charAt(regex.length() - TRAILING_SPACE_LOOKAHEAD.length() - 1) == '|');
        String body = trailingSpace
                ? regex.substring(0, regex.length() - TRAILING_SPACE_LOOKAHEAD.length()) + "(?P<" + SPACE_GROUP + ">\\s+)"
                : regex;
        try {
            return new LinearRegex(Pattern.compile(unicodeClasses(body, regex)), trailingSpace);
        } catch (PatternSyntaxException e) {
            throw refused(regex, e.getDescription());
        }
    }

    /** Receives the matches in order; {@code end} is exclusive. */
    interface Matches {
        void match(int start, int end);
    }

    /** Every non-overlapping match, left to right, as java.util.regex's find loop reports them. */
    void forEachMatch(String text, Matches matches) {
        Matcher m = pattern.matcher(text);
        int from = 0;
        while (from <= text.length() && m.find(from)) {
            int start = m.start();
            int end = m.end();
            if (trailingSpace && m.start(SPACE_GROUP) >= 0 && end < text.length() && end - start > 1) {
                end--;
            }
            matches.match(start, end);
            from = end > start ? end : end + (end < text.length() ? Character.charCount(text.codePointAt(end)) : 1);
        }
    }

    /** Every match replaced by {@code replacement}, taken literally. */
    String replaceAll(String text, String replacement) {
        StringBuilder out = new StringBuilder(text.length());
        int[] last = {0};
        forEachMatch(text, (start, end) -> {
            out.append(text, last[0], start).append(replacement);
            last[0] = end;
        });
        return out.append(text, last[0], text.length()).toString();
    }

    /**
     * Rewrites the shorthand classes to their Unicode sets, inside and outside brackets, and refuses
     * lookaround and backreferences with a message naming them (RE2's own would say "invalid
     * or unsupported Perl syntax").
     */
    private static String unicodeClasses(String regex, String original) {
        StringBuilder out = new StringBuilder(regex.length() + 64);
        boolean inClass = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                char next = regex.charAt(++i);
                String set = switch (next) {
                    case 's' -> SPACE;
                    case 'd' -> "\\p{Nd}";
                    case 'w' -> WORD;
                    default -> null;
                };
                if (set != null) {
                    out.append(inClass ? set : "[" + set + "]");
                } else if (next == 'S' || next == 'D' || next == 'W') {
                    if (inClass) {
                        throw refused(original, "\\" + next + " inside a character class");
                    }
                    out.append("[^").append(next == 'S' ? SPACE : next == 'D' ? "\\p{Nd}" : WORD).append(']');
                } else if (next >= '1' && next <= '9' && !inClass) {
                    throw refused(original, "a backreference");
                } else {
                    out.append(c).append(next);
                }
                continue;
            }
            if (!inClass && c == '(' && regex.startsWith("(?", i) && i + 2 < regex.length()
                    && (regex.charAt(i + 2) == '=' || regex.charAt(i + 2) == '!'
                    || regex.startsWith("(?<=", i) || regex.startsWith("(?<!", i))) {
                throw refused(original, "lookaround");
            }
            if (c == '[' && !inClass) {
                inClass = true;
                out.append(c);
                if (i + 1 < regex.length() && regex.charAt(i + 1) == '^') {
                    out.append('^');
                    i++;
                }
                if (i + 1 < regex.length() && regex.charAt(i + 1) == ']') {
                    out.append("\\]");
                    i++;
                }
                continue;
            }
            if (c == ']' && inClass) {
                inClass = false;
            }
            out.append(c);
        }
        return out.toString();
    }

    private static ModelFormatException refused(String regex, String what) {
        return new ModelFormatException("tokenizer.json: regex '" + UntrustedText.quote(regex)
                + "' cannot run in linear time (" + what + "); kvcache runs tokenizer regexes with RE2,"
                + " which has no lookaround or backreferences besides the \\s+(?!\\S)|\\s+ ending real tokenizers use");
    }
}
