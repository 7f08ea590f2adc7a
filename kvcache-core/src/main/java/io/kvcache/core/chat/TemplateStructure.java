package io.kvcache.core.chat;

import java.util.Locale;
import java.util.Set;

/**
 * Checks a template's tags before Jinjava parses it: tags that load other files are refused, and
 * block tags may nest no deeper than {@link TemplateLimits#maxNesting()}. Jinjava builds and renders
 * its tree recursively, so five thousand nested {@code if}s overflow the stack; counting first keeps
 * that an ordinary, named error.
 */
final class TemplateStructure {
    /** Tags that open a block closed by an end tag ({@code set} only in its block form, without '='). */
    private static final Set<String> BLOCKS = Set.of("if", "for", "macro", "call", "filter", "raw", "block",
            "with", "autoescape", "unless", "ifchanged", "generation");

    private TemplateStructure() {
    }

    static void check(String name, String source, TemplateLimits limits) {
        int depth = 0;
        boolean raw = false;
        int i = 0;
        while (true) {
            int tag = source.indexOf("{%", i);
            int comment = source.indexOf("{#", i);
            if (tag < 0) {
                return;
            }
            if (comment >= 0 && comment < tag && !raw) {
                int close = source.indexOf("#}", comment + 2);
                if (close < 0) {
                    return;
                }
                i = close + 2;
                continue;
            }
            int close = source.indexOf("%}", tag + 2);
            if (close < 0) {
                return;
            }
            String body = source.substring(tag + 2, close).replaceAll("^[-+]|[-+]$", "").strip();
            String word = body.split("[^A-Za-z_]", 2)[0].toLowerCase(Locale.ROOT);
            i = close + 2;
            if (raw) {
                if (word.equals("endraw")) {
                    raw = false;
                    depth--;
                }
                continue;
            }
            if (TemplateSandbox.LOADING_TAGS.contains(word)) {
                throw new ChatTemplateException(name + " may not load other templates: line " + line(source, tag)
                        + " uses '" + word + "' (include, import, from and extends are refused)");
            }
            if (BLOCKS.contains(word) || word.equals("set") && !assigns(body)) {
                depth++;
                if (depth > limits.maxNesting()) {
                    throw new ChatTemplateException(name + " nests tags deeper than " + limits.maxNesting()
                            + " (TemplateLimits.maxNesting) at line " + line(source, tag));
                }
                raw = word.equals("raw");
            } else if (word.startsWith("end")) {
                depth--;
            }
        }
    }

    /** {@code set x = ...} (one line) rather than {@code set x} ... {@code endset}. */
    private static boolean assigns(String body) {
        return body.replace("==", "").replace("!=", "").replace("<=", "").replace(">=", "").contains("=");
    }

    private static long line(String source, int offset) {
        return source.substring(0, offset).chars().filter(c -> c == '\n').count() + 1;
    }
}
