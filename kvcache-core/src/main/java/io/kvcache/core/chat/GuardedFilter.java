package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.Collection;
import java.util.Map;

/**
 * One of the allowed filters held to the {@link TemplateLimits}: a numeric argument (a width, an
 * indent, a precision) above {@link TemplateLimits#maxStringChars()} is refused before the filter
 * runs, since the filter would allocate that much at once; {@code indent} is refused when its lines
 * times its width would pass the limit; a string, list or dict result over the limits fails.
 */
final class GuardedFilter implements AdvancedFilter {
    private final Filter filter;
    private final TemplateLimits limits;

    GuardedFilter(Filter filter, TemplateLimits limits) {
        this.filter = filter;
        this.limits = limits;
    }

    @Override
    public String getName() {
        return filter.getName();
    }

    @Override
    public boolean preserveSafeString() {
        return filter.preserveSafeString();
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        long widest = 0;
        for (Object arg : args) {
            widest = Math.max(widest, magnitude(arg));
        }
        for (Object arg : kwargs.values()) {
            widest = Math.max(widest, magnitude(arg));
        }
        if (widest > limits.maxStringChars()) {
            throw new TemplateLimitException(getName() + ": argument " + widest + " is larger than "
                    + limits.maxStringChars() + " (TemplateLimits.maxStringChars)");
        }
        if (getName().equals("indent") && var instanceof CharSequence text) {
            long lines = text.chars().filter(c -> c == '\n').count() + 1;
            if (text.length() + lines * Math.max(widest, 4) > limits.maxStringChars()) {
                throw new TemplateLimitException("indent: the result would be longer than " + limits.maxStringChars()
                        + " characters (TemplateLimits.maxStringChars)");
            }
        }
        return checked(filter.filter(var, interpreter, args, kwargs));
    }

    private Object checked(Object result) {
        if (result instanceof CharSequence s && s.length() > limits.maxStringChars()) {
            throw new TemplateLimitException(getName() + ": a string of " + s.length() + " characters is longer than "
                    + limits.maxStringChars() + " (TemplateLimits.maxStringChars)");
        }
        int size = result instanceof Collection<?> c ? c.size() : result instanceof Map<?, ?> m ? m.size() : 0;
        if (size > limits.maxItems()) {
            throw new TemplateLimitException(getName() + ": " + size + " items are more than " + limits.maxItems()
                    + " (TemplateLimits.maxItems)");
        }
        return result;
    }

    /** How large a numeric argument asks for; a text one may be a number too ("2000000000"). */
    private static long magnitude(Object arg) {
        if (arg instanceof Number n) {
            double d = Math.abs(n.doubleValue());
            return d >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) d;
        }
        if (arg instanceof CharSequence s && !s.isEmpty() && s.length() < 30 && s.toString().strip().matches("[-+]?\\d+")) {
            return magnitude(Double.parseDouble(s.toString().strip()));
        }
        return 0;
    }
}
