package io.kvcache.core.tokenizer;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pre-tokenizer regex run the way llama.cpp runs the ones it has no hand-written version of: on
 * the {@linkplain CodepointText#collapsed() category-collapsed} text, with each {@code \p{..}} class
 * rewritten to its stand-in character plus the ASCII characters of that category, and {@code \s}
 * meaning ASCII whitespace (non-ASCII whitespace was collapsed to U+000B). Matches and the gaps
 * between them both become words.
 */
final class CategoryRegexSplitter implements WordSplitter {
    private static final Map<String, String> CATEGORY_CLASSES = Map.of(
            "N", "\\x{D1}\\x30-\\x39",
            "L", "\\x{D2}\\x41-\\x5A\\x61-\\x7A",
            "P", "\\x{D3}\\x21-\\x23\\x25-\\x2A\\x2C-\\x2F\\x3A-\\x3B\\x3F-\\x40\\x5B-\\x5D\\x5F\\x7B\\x7D",
            "M", "\\x{D4}",
            "S", "\\x{D5}\\x24\\x2B\\x3C-\\x3E\\x5E\\x60\\x7C");

    private final Pattern pattern;

    CategoryRegexSplitter(String regex) {
        this.pattern = Pattern.compile(rewrite(regex));
    }

    /** Replaces \p{N}, \p{L}, \p{Lu}.., \p{P}, \p{M}, \p{S} by collapsed-text classes, bracketed unless already inside [...]. */
    static String rewrite(String regex) {
        StringBuilder out = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            boolean escaped = i > 0 && regex.charAt(i - 1) == '\\';
            if (c == '[' && !escaped) {
                inside = true;
            } else if (c == ']' && inside && !escaped) {
                inside = false;
            } else if (c == '\\' && regex.startsWith("\\p{", i)) {
                int close = regex.indexOf('}', i + 3);
                String name = close < 0 ? "" : regex.substring(i + 3, close);
                String key = name.length() == 2 && name.charAt(0) == 'L' ? "L" : name;
                String members = CATEGORY_CLASSES.get(key);
                if (members != null) {
                    out.append(inside ? members : "[" + members + "]");
                    i = close;
                    continue;
                }
            }
            out.append(c);
        }
        return out.toString();
    }

    @Override
    public void split(CodepointText text, int start, int end, IntList lengths) {
        Matcher matcher = pattern.matcher(text.collapsed());
        matcher.region(start, end);
        int last = start;
        while (matcher.find()) {
            if (matcher.start() > last) {
                lengths.add(matcher.start() - last);
            }
            if (matcher.end() > matcher.start()) {
                lengths.add(matcher.end() - matcher.start());
            }
            last = matcher.end();
        }
        if (last < end) {
            lengths.add(end - last);
        }
    }
}
