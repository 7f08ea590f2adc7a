package io.kvcache.core;

/**
 * Text from a model file or a user placed into an error message or a log line: at most
 * {@value #MAX_CHARS} characters, with control characters, quotes and backslashes escaped, so a
 * hostile tensor name can neither flood a log nor forge lines in it.
 */
public final class UntrustedText {
    /** Enough for any real tensor, key or tag name; longer ones are cut with "...". */
    public static final int MAX_CHARS = 120;

    private UntrustedText() {
    }

    /** {@code text} shortened and escaped (Java string-literal escapes, {@code \}{@code uXXXX} for other controls). */
    public static String quote(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_CHARS) + 8);
        int end = Math.min(text.length(), MAX_CHARS);
        if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\\' -> out.append("\\\\");
                case '\'' -> out.append("\\'");
                case '"' -> out.append("\\\"");
                default -> {
                    if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
                            || Character.isSurrogate(c) && !validSurrogate(text, i)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (end < text.length()) {
            out.append("...");
        }
        return out.toString();
    }

    private static boolean validSurrogate(String text, int i) {
        char c = text.charAt(i);
        return Character.isHighSurrogate(c) ? i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))
                : i > 0 && Character.isHighSurrogate(text.charAt(i - 1));
    }
}
