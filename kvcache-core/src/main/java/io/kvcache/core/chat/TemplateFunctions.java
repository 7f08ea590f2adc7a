package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.fn.Functions;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;

/**
 * The functions Hugging Face's and llama.cpp's chat-template renderers give every template:
 * {@code raise_exception(message)}, with which templates reject conversations they cannot format,
 * and {@code strftime_now(format)}, with which Llama 3.x and Granite put today's date in the system
 * prompt. The clock is Jinjava's date-time provider, so a {@link ChatTemplate} built with a fixed
 * clock renders a fixed date. {@code range} replaces Jinjava's to fail past the item limit.
 */
final class TemplateFunctions {
    private TemplateFunctions() {
    }

    /** Thrown by raise_exception; carries the template's own message. */
    static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message);
        }
    }

    static void register(Context globals) {
        for (ELFunctionDefinition function : new ELFunctionDefinition[] {
                new ELFunctionDefinition("", "raise_exception", TemplateFunctions.class, "raiseException", String.class),
                new ELFunctionDefinition("", "strftime_now", TemplateFunctions.class, "strftimeNow", String.class),
                new ELFunctionDefinition("", "range", TemplateFunctions.class, "range", Object.class, Object[].class)}) {
            globals.registerFunction(function);
            // In Jinja functions are ordinary global values: Llama 3.x checks "strftime_now is defined".
            globals.put(function.getLocalName(), function);
        }
    }

    /**
     * Python's range, refused when it would be longer than {@link TemplateLimits#maxItems()}: Jinjava's
     * own range silently stops at its limit, which would change what a template means.
     */
    static List<Integer> range(Object first, Object... rest) {
        long start = rest.length == 0 ? 0 : integer(first);
        long stop = rest.length == 0 ? integer(first) : integer(rest[0]);
        long step = rest.length > 1 ? integer(rest[1]) : 1;
        int limit = JinjavaInterpreter.getCurrent().getConfig().getRangeLimit();
        if (step != 0 && ((double) stop - start) / step > limit) {
            throw new TemplateLimitException("range(" + start + ", " + stop + ", " + step + ") is longer than "
                    + limit + " (TemplateLimits.maxItems)");
        }
        return Functions.range(first, rest);
    }

    private static long integer(Object value) {
        if (value instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(String.valueOf(value).strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static String raiseException(String message) {
        throw new Raised(message);
    }

    /**
     * Now, in the clock's time zone, formatted by a Python strftime format (C locale names: "Nov",
     * "November"). Text without a '%' directive comes back as it is, as from Python, where Jinjava's
     * formatter would read it as a Java pattern.
     */
    static String strftimeNow(String format) {
        if (format.indexOf('%') < 0) {
            return format;
        }
        var config = JinjavaInterpreter.getCurrent().getConfig();
        ZonedDateTime now = Instant.ofEpochMilli(config.getDateTimeProvider().getCurrentTimeMillis())
                .atZone(config.getTimeZone());
        return StrftimeFormatter.format(now, format, Locale.ENGLISH);
    }
}
