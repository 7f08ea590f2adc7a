package io.kvcache.core.kv;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;

/** Range checks of policy settings, with errors that name the property ({@code kvcache.} + key) and what is allowed. */
final class PolicyChecks {
    private PolicyChecks() {
    }

    static IllegalArgumentException bad(String key, Object value, String allowed) {
        return new IllegalArgumentException("kvcache." + key + ": '" + value + "' is not allowed; " + allowed);
    }

    static int integer(String key, int value, int min, int max) {
        if (value < min || value > max) {
            throw bad(key, value, "expected an integer from " + min + " to " + max);
        }
        return value;
    }

    static double ratio(String key, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw bad(key, format(value), "expected a number from 0 to 1");
        }
        return value;
    }

    static int oneOf(String key, int value, int... allowed) {
        for (int a : allowed) {
            if (a == value) {
                return value;
            }
        }
        throw bad(key, value, "allowed values are "
                + String.join(", ", Arrays.stream(allowed).mapToObj(Integer::toString).toList()));
    }

    /** The choice whose name ({@code name}) is {@code value} once trimmed, or an error naming the property and the choices. */
    static <E> E named(String key, String value, E[] choices, Function<E, String> name) {
        for (E choice : choices) {
            if (name.apply(choice).equals(value.trim())) {
                return choice;
            }
        }
        throw bad(key, value, "allowed values are " + String.join(", ", Arrays.stream(choices).map(name).toList()));
    }

    static int sinks(int sinks) {
        return integer("sinks", sinks, 0, 1 << 20);
    }

    static String format(double value) {
        return String.format(Locale.ROOT, "%s", value);
    }
}
