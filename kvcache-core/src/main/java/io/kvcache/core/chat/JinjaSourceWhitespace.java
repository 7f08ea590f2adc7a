package io.kvcache.core.chat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The whitespace rules of Jinja's lexer with the options Hugging Face and llama.cpp render chat
 * templates with, applied to the template source before Jinjava parses it (Jinjava's own options
 * for them stay off):
 * <ul>
 *   <li>keep_trailing_newline=False: one newline ending the source is dropped. Jinjava drops it
 *       from the output instead, eating a newline the template prints on purpose, such as the
 *       one after Qwen's {@code '<|im_start|>assistant\n'}.</li>
 *   <li>lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag are
 *       removed, unless the tag opens with "+" (or "-", which strips more and is left to Jinjava).
 *       Jinjava strips the blanks before every tag, also those after text on the same line
 *       ({@code a {% if %}} loses its space, which Jinja keeps).</li>
 *   <li>trim_blocks: the newline right after a block or comment tag is removed, unless the tag
 *       closes with "+" (or "-").</li>
 * </ul>
 * The "+" modifiers, which Jinjava does not know, are taken out once applied. Quoted strings inside
 * tags and the text of {@code {% raw %}} blocks are left alone.
 */
final class JinjaSourceWhitespace {
    private static final Pattern END_RAW = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");
    private static final Pattern RAW = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");

    private final String source;
    private final StringBuilder out;
    private int at;
    /** Where the current line starts in {@code out}. */
    private int lineStart;
    /** Whether only spaces and tabs follow {@code lineStart}. */
    private boolean blankSoFar = true;

    private JinjaSourceWhitespace(String source) {
        this.source = source;
        this.out = new StringBuilder(source.length());
    }

    static String apply(String source) {
        String text = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        return new JinjaSourceWhitespace(text).run();
    }

    private String run() {
        int rawEnd = -1;
        while (at < source.length()) {
            if (rawEnd > at) {
                text(source.charAt(at++));
            } else if (source.startsWith("{%", at) || source.startsWith("{#", at)) {
                String tag = block();
                if (RAW.matcher(tag).matches()) {
                    Matcher end = END_RAW.matcher(source);
                    rawEnd = end.find(at) ? end.start() : source.length();
                }
            } else if (source.startsWith("{{", at)) {
                int end = end(at, "}}");
                out.append(source, at, end);
                at = end;
                blankSoFar = false;
            } else {
                text(source.charAt(at++));
            }
        }
        return out.toString();
    }

    private void text(char c) {
        out.append(c);
        if (c == '\n') {
            lineStart = out.length();
            blankSoFar = true;
        } else if (c != ' ' && c != '\t') {
            blankSoFar = false;
        }
    }

    /** Copies the block or comment tag at {@code at}, applying lstrip_blocks and trim_blocks; returns it as copied. */
    private String block() {
        boolean comment = source.charAt(at + 1) == '#';
        int end = end(at, comment ? "#}" : "%}");
        String tag = source.substring(at, end);
        at = end;
        char opening = tag.length() > 2 ? tag.charAt(2) : 0;
        if (opening == '+') {
            tag = tag.substring(0, 2) + tag.substring(3);
        } else if (opening != '-' && blankSoFar) {
            out.setLength(lineStart);
        }
        boolean closed = tag.endsWith("}") && tag.length() >= 4;
        char closing = closed ? tag.charAt(tag.length() - 3) : 0;
        if (closing == '+') {
            tag = tag.substring(0, tag.length() - 3) + tag.substring(tag.length() - 2);
        }
        out.append(tag);
        blankSoFar = false;
        if (closed && closing != '+' && closing != '-' && source.startsWith("\n", at)) {
            at++;
            lineStart = out.length();
            blankSoFar = true;
        }
        return tag;
    }

    /**
     * The index after the {@code close} that ends the tag opening at {@code start}, skipping quoted
     * strings in expressions and block tags as Jinjava's scanner does; the source length when unclosed.
     */
    private int end(int start, String close) {
        char quote = 0;
        for (int i = start + 2; i < source.length(); i++) {
            char c = source.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if ((c == '\'' || c == '"') && !close.equals("#}")) {
                quote = c;
            } else if (source.startsWith(close, i)) {
                return i + close.length();
            }
        }
        return source.length();
    }
}
