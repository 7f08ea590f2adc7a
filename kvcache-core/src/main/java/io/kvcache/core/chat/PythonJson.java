package io.kvcache.core.chat;

import jinjava.javax.el.ELException;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * {@code json.dumps(value, ensure_ascii=False, indent=indent)}, which is what {@code |tojson} means
 * to the renderers chat templates are written for. Jinjava's own tojson writes compact JSON
 * ({@code {"a":1}}) where Python writes {@code {"a": 1}}, and tool schemas are printed into prompts
 * with it. The text may be no longer than {@link TemplateLimits#maxStringChars()} and nest no
 * deeper than {@link TemplateLimits#maxNesting()}: a list holding itself, or many references to one
 * large list, would otherwise recurse without end or fill the heap.
 */
final class PythonJson {
    private final Integer indent;
    private final TemplateLimits limits;
    private final StringBuilder out = new StringBuilder();

    private PythonJson(Integer indent, TemplateLimits limits) {
        this.indent = indent;
        this.limits = limits;
    }

    /** {@code indent} null is Python's single-line form (", " and ": " separators). */
    static String dumps(Object value, Integer indent, TemplateLimits limits) {
        PythonJson json = new PythonJson(indent, limits);
        json.write(value, 0);
        return json.out.toString();
    }

    private void write(Object value, int depth) {
        if (depth > limits.maxNesting()) {
            throw new TemplateLimitException("tojson: the value nests deeper than " + limits.maxNesting()
                    + " (TemplateLimits.maxNesting)");
        }
        if (out.length() > limits.maxStringChars()) {
            throw new TemplateLimitException("tojson: the text is longer than " + limits.maxStringChars()
                    + " characters (TemplateLimits.maxStringChars)");
        }
        switch (ValueReads.note(value)) {
            case null -> out.append("null");
            case CharSequence s -> string(out, s.toString());
            case Boolean b -> out.append(b);
            case Double d -> out.append(pythonFloat(d));
            case Float f -> out.append(pythonFloat(f));
            case Number n -> out.append(n);
            case Map<?, ?> map -> container('{', '}', map.entrySet().iterator(), depth);
            case Iterable<?> items -> container('[', ']', items.iterator(), depth);
            case Object[] items -> container('[', ']', Arrays.asList(items).iterator(), depth);
            default -> throw new ELException("tojson: " + value.getClass().getSimpleName() + " is not JSON serializable");
        }
    }

    private void container(char open, char close, Iterator<?> items, int depth) {
        out.append(open);
        boolean first = true;
        while (items.hasNext()) {
            if (!first) {
                out.append(indent == null ? ", " : ",");
            }
            first = false;
            newline(depth + 1);
            Object item = items.next();
            if (item instanceof Map.Entry<?, ?> entry) {
                string(out, key(entry.getKey()));
                out.append(": ");
                write(entry.getValue(), depth + 1);
            } else {
                write(item, depth + 1);
            }
        }
        if (!first) {
            newline(depth);
        }
        out.append(close);
    }

    /** The indent is checked against the string limit before it is written. */
    private void newline(int depth) {
        if (indent != null) {
            long spaces = (long) Math.max(indent, 0) * depth;
            if (out.length() + spaces > limits.maxStringChars()) {
                throw new TemplateLimitException("tojson: the text is longer than " + limits.maxStringChars()
                        + " characters (TemplateLimits.maxStringChars)");
            }
            out.append('\n').repeat(' ', (int) spaces);
        }
    }

    /** Python turns None, booleans and numbers used as keys into their JSON text. */
    private String key(Object key) {
        return key instanceof CharSequence ? key.toString() : dumps(key, null, limits);
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's float repr for the common cases: integral values keep ".0", exponents read "1e-05". */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        String java = Double.toString(d);
        int e = java.indexOf('E');
        if (e < 0) {
            return java;
        }
        String mantissa = java.substring(0, e).replaceFirst("\\.0$", "");
        int exponent = Integer.parseInt(java.substring(e + 1));
        if (exponent >= -4 && exponent < 16) {
            String plain = new BigDecimal(java).toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
