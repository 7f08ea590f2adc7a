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
 * with it.
 */
final class PythonJson {
    private PythonJson() {
    }

    /** {@code indent} null is Python's single-line form (", " and ": " separators). */
    static String dumps(Object value, Integer indent) {
        StringBuilder out = new StringBuilder();
        write(out, value, indent, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, Integer indent, int depth) {
        switch (value) {
            case null -> out.append("null");
            case CharSequence s -> string(out, s.toString());
            case Boolean b -> out.append(b);
            case Double d -> out.append(pythonFloat(d));
            case Float f -> out.append(pythonFloat(f));
            case Number n -> out.append(n);
            case Map<?, ?> map -> container(out, '{', '}', map.entrySet().iterator(), indent, depth);
            case Iterable<?> items -> container(out, '[', ']', items.iterator(), indent, depth);
            case Object[] items -> container(out, '[', ']', Arrays.asList(items).iterator(), indent, depth);
            default -> throw new ELException("tojson: " + value.getClass().getSimpleName() + " is not JSON serializable");
        }
    }

    private static void container(StringBuilder out, char open, char close, Iterator<?> items, Integer indent, int depth) {
        out.append(open);
        boolean first = true;
        while (items.hasNext()) {
            if (!first) {
                out.append(indent == null ? ", " : ",");
            }
            first = false;
            newline(out, indent, depth + 1);
            Object item = items.next();
            if (item instanceof Map.Entry<?, ?> entry) {
                string(out, key(entry.getKey()));
                out.append(": ");
                write(out, entry.getValue(), indent, depth + 1);
            } else {
                write(out, item, indent, depth + 1);
            }
        }
        if (!first) {
            newline(out, indent, depth);
        }
        out.append(close);
    }

    private static void newline(StringBuilder out, Integer indent, int depth) {
        if (indent != null) {
            out.append('\n').repeat(' ', indent * depth);
        }
    }

    /** Python turns None, booleans and numbers used as keys into their JSON text. */
    private static String key(Object key) {
        return key instanceof CharSequence ? key.toString() : dumps(key, null);
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
    private static String pythonFloat(double d) {
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
