package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.Context;
import io.kvcache.core.UntrustedText;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.Importable;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.loader.ResourceLocator;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

import java.nio.charset.Charset;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What a chat template may call: the tags, filters, tests, functions and methods the collected
 * real templates use (plus Jinja's harmless relatives of them), and nothing else. Jinjava offers far
 * more, written for trusted templates: Java methods on any value ({@code 'x'.repeat(n)}),
 * {@code include}/{@code import}/{@code from}/{@code extends} reading the class path, a
 * {@code render} filter that runs strings as templates, {@code format} with a width of two billion.
 * Filters that survive are wrapped by {@link #guard} so that no argument asks for a string beyond
 * {@link TemplateLimits#maxStringChars()} and no result is larger than the limits.
 */
final class TemplateSandbox {
    static final Set<String> TAGS = Set.of("if", "elif", "else", "endif", "for", "endfor", "set", "endset",
            "macro", "endmacro", "call", "endcall", "raw", "endraw", "do", "enddo", "break", "continue",
            "generation", "endgeneration", "filter", "endfilter");
    /** Tags that load other templates, refused with their own message (they are the class-path readers). */
    static final Set<String> LOADING_TAGS = Set.of("include", "import", "from", "extends");
    static final Set<String> FILTERS = Set.of("abs", "bool", "capitalize", "count", "d", "default", "dictsort", "e",
            "escape", "first", "float", "indent", "int", "items", "join", "last", "length", "list", "lower", "map",
            "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string",
            "sum", "title", "tojson", "trim", "unique", "upper", "wordcount");
    static final Set<String> TESTS = Set.of("==", "!=", "<", "<=", ">", ">=", "boolean", "defined", "divisibleby",
            "eq", "equalto", "even", "false", "float", "ge", "gt", "in", "integer", "iterable", "le", "lower", "lt",
            "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "true", "truthy", "undefined", "upper");
    /** Jinjava keys its built-in functions by prefix and name; ours (raise_exception, strftime_now, range) have none. */
    static final Set<String> FUNCTIONS = Set.of(":namespace", "range", "raise_exception", "strftime_now");
    /** The Python str, dict and list methods templates call; {@link PythonStringMethods} gives str its meaning. */
    static final Set<String> METHODS = Set.of("strip", "lstrip", "rstrip", "split", "startswith", "endswith",
            "replace", "upper", "lower", "title", "capitalize", "get", "items", "keys", "values", "pop", "append",
            "extend", "update", "format");

    private TemplateSandbox() {
    }

    /** Everything {@code globals} registers outside the allow-lists, for Jinjava's "disabled" setting. */
    static Map<Context.Library, Set<String>> disabled(Context globals) {
        Map<Context.Library, Set<String>> disabled = new EnumMap<>(Context.Library.class);
        disabled.put(Context.Library.TAG, outside(globals.getAllTags(), TAGS));
        disabled.put(Context.Library.FILTER, outside(globals.getAllFilters(), FILTERS));
        disabled.put(Context.Library.EXP_TEST, outside(globals.getAllExpTests(), TESTS));
        disabled.put(Context.Library.FUNCTION, globals.getAllFunctions().stream()
                .map(f -> f.getNamespace() + ":" + f.getLocalName())
                .filter(name -> !FUNCTIONS.contains(name) && !FUNCTIONS.contains(name.substring(name.indexOf(':') + 1)))
                .collect(Collectors.toCollection(TreeSet::new)));
        return disabled;
    }

    private static Set<String> outside(Collection<? extends Importable> all, Set<String> allowed) {
        return all.stream().map(Importable::getName).filter(n -> !allowed.contains(n))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Replaces every allowed filter in {@code globals} by its {@link GuardedFilter}. */
    static void guardFilters(Context globals, TemplateLimits limits) {
        for (Filter filter : globals.getAllFilters().stream().filter(f -> FILTERS.contains(f.getName())).toList()) {
            globals.registerFilter(new GuardedFilter(filter, limits));
        }
    }

    /** The resource locator: templates may not load anything, from the class path or elsewhere. */
    static final class NoLoading implements ResourceLocator {
        @Override
        public String getString(String fullName, Charset encoding, JinjavaInterpreter interpreter) {
            throw new TemplateLimitException("templates may not load other files ('" + UntrustedText.quote(fullName)
                    + "'): include, import, from and extends are refused");
        }
    }

    /**
     * Placed first among the resolvers: a method call outside {@link #METHODS} fails here instead of
     * reaching Jinjava's, which call any public Java method of the value. The failure is an ordinary
     * render error, as for a method that does not exist.
     */
    static final class MethodGuard extends MethodResolver {
        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            // Jinjava runs "value|name" as a call of the filter's own filter method, tests likewise.
            boolean filterOrTest = base instanceof Filter && "filter".equals(method)
                    || base instanceof ExpTest && method instanceof String m && m.startsWith("evaluate");
            if (!filterOrTest && (!(method instanceof String name) || !METHODS.contains(name))) {
                throw new ELException("method '" + UntrustedText.quote(String.valueOf(method))
                        + "' is not available to templates (allowed: " + new TreeSet<>(METHODS) + ")");
            }
            return null;
        }
    }
}
