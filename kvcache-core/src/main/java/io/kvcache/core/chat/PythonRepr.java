package io.kvcache.core.chat;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * Python's {@code str(value)}: what {@code value|string} and {@code '{}'.format(value)} make of a
 * value. A dict or list reads as Python prints it ({@code {'type': 'function', 'enum': ['a', 'b']}},
 * which Apriel's templates print tools with), where Java would print {@code {type=function}}; a
 * string inside one is quoted as Python's repr quotes it. Held to the same limits as
 * {@link PythonJson}: no longer than {@link TemplateLimits#maxStringChars()}, no deeper than
 * {@link TemplateLimits#maxNesting()}.
 */
final class PythonRepr {
    private final TemplateLimits limits;
    private final StringBuilder out = new StringBuilder();

    private PythonRepr(TemplateLimits limits) {
        this.limits = limits;
    }

    /** {@code str(value)}: a string as it is, None as "None", booleans as "True"/"False", containers as their repr. */
    static String str(Object value, TemplateLimits limits) {
        if (value instanceof CharSequence s) {
            return s.toString();
        }
        PythonRepr repr = new PythonRepr(limits);
        repr.write(value, 0);
        return repr.out.toString();
    }

    private void write(Object value, int depth) {
        if (depth > limits.maxNesting()) {
            throw new TemplateLimitException("string: the value nests deeper than " + limits.maxNesting()
                    + " (TemplateLimits.maxNesting)");
        }
        if (out.length() > limits.maxStringChars()) {
            throw new TemplateLimitException("string: the text is longer than " + limits.maxStringChars()
                    + " characters (TemplateLimits.maxStringChars)");
        }
        switch (ValueReads.note(value)) {
            case null -> out.append("None");
            case CharSequence s -> quote(s.toString());
            case Boolean b -> out.append(b ? "True" : "False");
            case Double d -> out.append(pythonFloat(d));
            case Float f -> out.append(pythonFloat(f));
            case Number n -> out.append(n);
            case Map<?, ?> map -> container('{', '}', map.entrySet().iterator(), depth);
            case Map.Entry<?, ?> pair -> container('(', ')', Arrays.asList(pair.getKey(), pair.getValue()).iterator(), depth);
            case Iterable<?> items -> container('[', ']', items.iterator(), depth);
            case Object[] items -> container('[', ']', Arrays.asList(items).iterator(), depth);
            default -> out.append(value);
        }
    }

    private void container(char open, char close, Iterator<?> items, int depth) {
        out.append(open);
        boolean first = true;
        while (items.hasNext()) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            Object item = items.next();
            if (open == '{' && item instanceof Map.Entry<?, ?> entry) {
                write(entry.getKey(), depth + 1);
                out.append(": ");
                write(entry.getValue(), depth + 1);
            } else {
                write(item, depth + 1);
            }
        }
        out.append(close);
    }

    /** Python's float repr: "1.0", "1e-05", "nan", "inf". */
    private static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        return PythonJson.pythonFloat(d);
    }

    /** Single quotes unless the text holds one and no double quote, as Python's repr chooses. */
    private void quote(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c == quote) {
                        out.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append(quote);
    }
}
