package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;
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
