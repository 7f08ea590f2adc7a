package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * The functions Hugging Face's and llama.cpp's chat-template renderers give every template:
 * {@code raise_exception(message)}, with which templates reject conversations they cannot format,
 * and {@code strftime_now(format)}, with which Llama 3.x and Granite put today's date in the system
 * prompt. The clock is Jinjava's date-time provider, so a {@link ChatTemplate} built with a fixed
 * clock renders a fixed date.
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
                new ELFunctionDefinition("", "strftime_now", TemplateFunctions.class, "strftimeNow", String.class)}) {
            globals.registerFunction(function);
            // In Jinja functions are ordinary global values: Llama 3.x checks "strftime_now is defined".
            globals.put(function.getLocalName(), function);
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
