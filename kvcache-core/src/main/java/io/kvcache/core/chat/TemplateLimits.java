package io.kvcache.core.chat;

import java.time.Duration;
import java.util.Objects;

/**
 * How much work a chat template may do in one render. A template comes from the model file, so it
 * is untrusted code: without limits one line ({@code 'x'.repeat(...)}, three nested loops, a
 * thousand nested {@code if}s) stops the application. A render that passes a limit fails with a
 * {@link ChatTemplateException} naming the template and the limit. The defaults are far above what
 * the 56 collected real templates need (their largest render is a few kilobytes, their deepest
 * nesting under 10 and none takes a millisecond once warm).
 *
 * @param maxOutputChars the longest prompt, and the longest string built by joining or concatenating
 * @param maxStringChars the longest string a filter or method may produce (replace, indent, tojson...)
 * @param maxItems       the most elements of a list or dict, and the longest {@code range()}
 * @param maxNesting     the deepest nesting of tags ({@code if} in {@code for} in {@code macro}...),
 *                       of brackets and operators in one expression
 * @param timeout        the longest one render may take, checked before every template node
 */
public record TemplateLimits(int maxOutputChars, int maxStringChars, int maxItems, int maxNesting, Duration timeout) {
    /** 4 Mi characters of output and of any string, 100,000 items, 100 levels, two seconds. */
    public static final TemplateLimits DEFAULT = new TemplateLimits(4 << 20, 4 << 20, 100_000, 100, Duration.ofSeconds(2));

    public TemplateLimits {
        Objects.requireNonNull(timeout, "timeout");
        if (maxOutputChars < 1 || maxStringChars < 1 || maxItems < 1 || maxNesting < 1) {
            throw new IllegalArgumentException("template limits must be positive: " + maxOutputChars + ", "
                    + maxStringChars + ", " + maxItems + ", " + maxNesting);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("template timeout must be positive: " + timeout);
        }
    }
}
