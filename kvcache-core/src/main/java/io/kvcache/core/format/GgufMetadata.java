package io.kvcache.core.format;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file. Scalars are held as {@code Integer} (8, 16 and 32-bit
 * signed, 8 and 16-bit unsigned), {@code Long} (unsigned 32-bit and all 64-bit integers),
 * {@code Float}, {@code Double}, {@code Boolean} or {@code String}; arrays as {@code int[]},
 * {@code long[]}, {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]} or
 * {@code Object[]} (arrays of arrays) by the same rule.
 */
public final class GgufMetadata {
    private final String source;
    private final Map<String, Object> values;

    GgufMetadata(String source, Map<String, Object> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<Object> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public Optional<String> string(String key) {
        return typed(key, String.class);
    }

    public String requireString(String key) {
        return string(key).orElseThrow(() -> missing(key));
    }

    public Optional<Long> integer(String key) {
        return typed(key, Number.class).map(n -> {
            if (n instanceof Float || n instanceof Double) {
                throw new ModelFormatException(source + ": metadata '" + UntrustedText.quote(key) + "' is a float, expected an integer");
            }
            return n.longValue();
        });
    }

    /** @throws ModelFormatException when missing or outside the int range */
    public int requireInt(String key) {
        return toInt(key, integer(key).orElseThrow(() -> missing(key)));
    }

    /** @throws ModelFormatException when outside the int range */
    public int intOr(String key, int fallback) {
        return integer(key).map(v -> toInt(key, v)).orElse(fallback);
    }

    private int toInt(String key, long value) {
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new ModelFormatException(source + ": metadata '" + UntrustedText.quote(key) + "' = " + value
                    + " is outside the range of a 32-bit integer");
        }
        return (int) value;
    }

    public Optional<Double> real(String key) {
        return typed(key, Number.class).map(Number::doubleValue);
    }

    public float floatOr(String key, float fallback) {
        return real(key).map(Double::floatValue).orElse(fallback);
    }

    public boolean booleanOr(String key, boolean fallback) {
        return typed(key, Boolean.class).orElse(fallback);
    }

    public Optional<String[]> strings(String key) {
        return typed(key, String[].class);
    }

    public Optional<int[]> ints(String key) {
        return typed(key, int[].class);
    }

    public Optional<float[]> floats(String key) {
        return typed(key, float[].class);
    }

    private <T> Optional<T> typed(String key, Class<T> type) {
        Object value = values.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!type.isInstance(value)) {
            throw new ModelFormatException(source + ": metadata '" + UntrustedText.quote(key) + "' is a "
                    + value.getClass().getSimpleName() + ", expected " + type.getSimpleName());
        }
        return Optional.of(type.cast(value));
    }

    private ModelFormatException missing(String key) {
        return new ModelFormatException(source + ": required metadata '" + UntrustedText.quote(key) + "' is missing");
    }
}
