package io.kvcache.core.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Python {@code str} methods that chat templates call ({@code content.strip()},
 * {@code content.split('</think>')[-1]}...), with Python's semantics rather than Java's: strip
 * takes an optional set of characters and uses Python's idea of whitespace, split is literal (not a
 * regular expression) and keeps empty trailing parts. Templates are written against Python's
 * Jinja, so Java's look-alike methods would give subtly different prompts.
 */
final class PythonStrings {
    private PythonStrings() {
    }

    /** Whitespace as Python's {@code str.isspace()} sees it (Java's isWhitespace leaves out no-break spaces). */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    static String strip(String s, String chars) {
        return rstrip(lstrip(s, chars), chars);
    }

    /** {@code chars} null strips whitespace; otherwise any of its characters. */
    static String lstrip(String s, String chars) {
        int start = 0;
        while (start < s.length()) {
            int c = s.codePointAt(start);
            if (!strippable(c, chars)) {
                break;
            }
            start += Character.charCount(c);
        }
        return s.substring(start);
    }

    static String rstrip(String s, String chars) {
        int end = s.length();
        while (end > 0) {
            int c = s.codePointBefore(end);
            if (!strippable(c, chars)) {
                break;
            }
            end -= Character.charCount(c);
        }
        return s.substring(0, end);
    }

    private static boolean strippable(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    /**
     * {@code str.split(sep, maxsplit)}: literal separator, empty parts kept; a null separator splits
     * on runs of whitespace and drops empty parts. A negative {@code maxSplit} means no limit.
     */
    static List<String> split(String s, String sep, int maxSplit) {
        if (sep == null) {
            return splitOnWhitespace(s, maxSplit);
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("split(): empty separator");
        }
        List<String> parts = new ArrayList<>();
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static List<String> splitOnWhitespace(String s, int maxSplit) {
        List<String> parts = new ArrayList<>();
        String rest = lstrip(s, null);
        while (!rest.isEmpty()) {
            if (maxSplit >= 0 && parts.size() == maxSplit) {
                parts.add(rest);
                break;
            }
            int end = 0;
            while (end < rest.length() && !isSpace(rest.codePointAt(end))) {
                end += Character.charCount(rest.codePointAt(end));
            }
            parts.add(rest.substring(0, end));
            rest = lstrip(rest.substring(end), null);
        }
        return parts;
    }

    /** {@code str.replace(old, new, count)}; a negative count replaces every occurrence. */
    static String replace(String s, String old, String replacement, int count) {
        int limit = count < 0 ? Integer.MAX_VALUE : count;
        StringBuilder out = new StringBuilder();
        int done = 0;
        if (old.isEmpty()) {
            // An empty pattern matches before every character and at the end, as in Python.
            for (int i = 0; ; ) {
                if (done++ < limit) {
                    out.append(replacement);
                }
                if (i >= s.length()) {
                    return out.toString();
                }
                int c = s.codePointAt(i);
                out.appendCodePoint(c);
                i += Character.charCount(c);
            }
        }
        int from = 0;
        int at;
        while (done++ < limit && (at = s.indexOf(old, from)) >= 0) {
            out.append(s, from, at).append(replacement);
            from = at + old.length();
        }
        return out.append(s, from, s.length()).toString();
    }

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** First character upper case, the rest lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = Character.charCount(s.codePointAt(0));
        return s.substring(0, first).toUpperCase(Locale.ROOT) + s.substring(first).toLowerCase(Locale.ROOT);
    }

    /** Each run of letters starts upper case and continues lower case. */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean inWord = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            out.appendCodePoint(inWord ? Character.toLowerCase(c) : Character.toTitleCase(c));
            inWord = Character.isLetter(c);
            i += Character.charCount(c);
        }
        return out.toString();
    }
}
