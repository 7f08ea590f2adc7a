package io.kvcache.core.chat;

import io.kvcache.core.UntrustedText;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

import java.util.List;
import java.util.Set;

/**
 * Resolves method calls on strings ({@code message.content.startswith('<tool_response>')}) to
 * {@link PythonStrings}. Jinjava calls Java methods on objects, so without this {@code startswith}
 * does not exist and {@code strip}, {@code split} and {@code replace} silently take Java's meaning.
 * Placed ahead of Jinjava's own resolvers; any other call falls through to them.
 */
final class PythonStringMethods extends MethodResolver {
    private static final Set<String> METHODS = Set.of("strip", "lstrip", "rstrip", "split", "startswith",
            "endswith", "replace", "upper", "lower", "title", "capitalize", "format");

    private final TemplateLimits limits;

    PythonStringMethods(TemplateLimits limits) {
        this.limits = limits;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name) || !METHODS.contains(name)) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result = switch (name) {
            case "strip" -> PythonStrings.strip(s, optionalString(name, args, 0, 1));
            case "lstrip" -> PythonStrings.lstrip(s, optionalString(name, args, 0, 1));
            case "rstrip" -> PythonStrings.rstrip(s, optionalString(name, args, 0, 1));
            case "split" -> PythonStrings.split(s, optionalString(name, args, 0, 2), optionalInt(name, args, 1));
            case "startswith" -> anyAffix(name, args, s::startsWith);
            case "endswith" -> anyAffix(name, args, s::endsWith);
            case "replace" -> PythonStrings.replace(s, requiredString(name, args, 0, 3),
                    requiredString(name, args, 1, 3), optionalInt(name, args, 2));
            case "upper" -> PythonStrings.upper(noArguments(name, args, s));
            case "lower" -> PythonStrings.lower(noArguments(name, args, s));
            case "title" -> PythonStrings.title(noArguments(name, args, s));
            case "format" -> format(s, args);
            default -> PythonStrings.capitalize(noArguments(name, args, s));
        };
        context.setPropertyResolved(true);
        return result;
    }

    /**
     * {@code '<|{}|>'.format(x)}: each {@code {}} takes the next argument as Python's str; other
     * fields ({@code {0}}, {@code {name}}, {@code {:>4}}) are refused, as llama.cpp refuses them.
     */
    private String format(String s, Object[] args) {
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '{') {
                out.append(c);
                continue;
            }
            if (i + 1 >= s.length() || s.charAt(i + 1) != '}') {
                throw new ELException("format(): only '{}' fields are supported, got '"
                        + UntrustedText.quote(s.substring(i, Math.min(s.length(), i + 10))) + "'");
            }
            if (next >= args.length) {
                throw new ELException("format(): more '{}' fields than the " + args.length + " arguments");
            }
            out.append(PythonRepr.str(args[next++], limits));
            if (out.length() > limits.maxStringChars()) {
                throw new TemplateLimitException("format(): the text is longer than " + limits.maxStringChars()
                        + " characters (TemplateLimits.maxStringChars)");
            }
            i++;
        }
        return out.toString();
    }

    /** startswith/endswith accept one affix or a tuple of them, like Python. */
    private static boolean anyAffix(String method, Object[] args, java.util.function.Predicate<String> test) {
        arity(method, args, 1, 1);
        if (args[0] instanceof List<?> affixes) {
            return affixes.stream().anyMatch(a -> test.test(string(method, a)));
        }
        return test.test(string(method, args[0]));
    }

    private static String noArguments(String method, Object[] args, String s) {
        arity(method, args, 0, 0);
        return s;
    }

    private static String optionalString(String method, Object[] args, int index, int max) {
        arity(method, args, 0, max);
        return index < args.length && args[index] != null ? string(method, args[index]) : null;
    }

    private static String requiredString(String method, Object[] args, int index, int max) {
        arity(method, args, index + 1, max);
        return string(method, args[index]);
    }

    /** A missing or None count/limit is -1: no limit, as Python's default. */
    private static int optionalInt(String method, Object[] args, int index) {
        if (index >= args.length || args[index] == null) {
            return -1;
        }
        if (!(args[index] instanceof Number n)) {
            throw new ELException(method + "(): expected an integer, got '" + args[index] + "'");
        }
        return n.intValue();
    }

    private static String string(String method, Object arg) {
        if (!(arg instanceof String s)) {
            throw new ELException(method + "(): expected a string, got '" + arg + "'");
        }
        return s;
    }

    private static void arity(String method, Object[] args, int min, int max) {
        if (args.length < min || args.length > max) {
            throw new ELException(method + "() takes " + (min == max ? "" + min : min + " to " + max)
                    + " arguments, got " + args.length);
        }
    }
}
