package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;
import com.hubspot.jinjava.util.ObjectTruthValue;
import jinjava.javax.el.ELException;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Jinja filters and tests whose Jinjava namesakes behave differently from Python's Jinja in ways a
 * prompt shows: {@code trim} (Jinjava strips control characters, Python strips Unicode
 * whitespace), {@code tojson} (see {@link PythonJson}), {@code items} (Jinja 3.1's, missing from
 * Jinjava; Hermes 2 Pro lists a tool's parameters with it) and the {@code iterable} test (strings
 * and dicts are iterable in Python; Llama 3.x relies on it to print tool results as JSON).
 */
final class PythonFilters {
    private PythonFilters() {
    }

    static void register(Context globals, TemplateLimits limits) {
        globals.registerFilter(new Trim());
        globals.registerFilter(new ToJson(limits));
        globals.registerFilter(new Items());
        globals.registerFilter(new StringFilter(limits));
        globals.registerFilter(new Indent());
        globals.registerExpTest(new Iterable());
    }

    /** {@code value|trim} and {@code value|trim(chars)}: str.strip. */
    private static final class Trim implements AdvancedFilter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object chars = args.length > 0 ? args[0] : kwargs.get("chars");
            return PythonStrings.strip(Objects.toString(var, ""), chars == null ? null : chars.toString());
        }
    }

    /** {@code value|tojson} and {@code value|tojson(indent=4)}. */
    private static final class ToJson implements AdvancedFilter {
        private final TemplateLimits limits;

        ToJson(TemplateLimits limits) {
            this.limits = limits;
        }

        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = args.length > 0 ? args[0] : kwargs.get("indent");
            if (indent != null && !(indent instanceof Number)) {
                throw new ELException("tojson: indent must be an integer, got '" + indent + "'");
            }
            return PythonJson.dumps(var, indent == null ? null : ((Number) indent).intValue(), limits);
        }
    }

    /** {@code dict|items}: the (key, value) pairs in the dict's order; nothing for an undefined value. */
    private static final class Items implements AdvancedFilter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            return switch (var) {
                case null -> List.of();
                case Map<?, ?> map -> List.copyOf(map.entrySet());
                default -> throw new ELException("items: " + var.getClass().getSimpleName() + " is not a mapping");
            };
        }
    }

    /** {@code value|string}: Python's str. */
    private static final class StringFilter implements AdvancedFilter {
        private final TemplateLimits limits;

        StringFilter(TemplateLimits limits) {
            this.limits = limits;
        }

        @Override
        public String getName() {
            return "string";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            return PythonRepr.str(var, limits);
        }
    }

    /**
     * {@code text|indent(width=4, first=false, blank=false)}: every line but the first (all with
     * {@code first}) gets the width in spaces (or the width itself, a string), empty lines only with
     * {@code blank}; a final newline stays, as llama.cpp keeps it.
     */
    private static final class Indent implements AdvancedFilter {
        @Override
        public String getName() {
            return "indent";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (!(var instanceof CharSequence text)) {
                throw new ELException("indent: expected a string, got " + (var == null ? "None" : var.getClass().getSimpleName()));
            }
            Object width = argument(args, kwargs, 0, "width");
            String indent = switch (width) {
                case Number n -> " ".repeat(Math.max(0, n.intValue()));
                case CharSequence s -> s.toString();
                case null, default -> "    ";
            };
            boolean first = ObjectTruthValue.evaluate(argument(args, kwargs, 1, "first"));
            boolean blank = ObjectTruthValue.evaluate(argument(args, kwargs, 2, "blank"));
            String input = text.toString();
            String[] lines = (input.endsWith("\n") ? input.substring(0, input.length() - 1) : input).split("\n", -1);
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < lines.length && !input.isEmpty(); i++) {
                if (i > 0) {
                    out.append('\n');
                }
                if (i == 0 ? first : !lines[i].isEmpty() || blank) {
                    out.append(indent);
                }
                out.append(lines[i]);
            }
            if (input.endsWith("\n")) {
                out.append('\n');
                if (blank) {
                    out.append(indent);
                }
            }
            return out.toString();
        }

        private static Object argument(Object[] args, Map<String, Object> kwargs, int index, String name) {
            return index < args.length ? args[index] : kwargs.get(name);
        }
    }

    private static final class Iterable implements ExpTest {
        @Override
        public String getName() {
            return "iterable";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof java.lang.Iterable<?> || var instanceof Map<?, ?> || var instanceof CharSequence
                    || (var != null && var.getClass().isArray());
        }
    }
}
