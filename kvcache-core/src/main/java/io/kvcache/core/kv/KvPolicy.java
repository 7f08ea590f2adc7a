package io.kvcache.core.kv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Which KV-cache policy a sequence runs and every setting of every policy (each policy reads its
 * own group). Names are the {@code kvcache.policy} values and the setting keys are the property
 * names under {@code kvcache.}, e.g. {@code heavy-hitter.heavy-ratio}. Ratios are fractions of the
 * tokens of the sequence so far.
 *
 * @param kind           the policy
 * @param sinks          first tokens every policy keeps (attention sinks)
 * @param window         {@code window}: the recent tokens kept
 * @param heavyHitter    {@code heavy-hitter}: recent and heavy-hitter shares
 * @param adaptive       {@code adaptive}: FastGen's recovery threshold and ratios, and what happens to evicted tokens
 * @param mixedPrecision {@code mixed-precision}: important share and precisions (also used by
 *                       {@code adaptive} with {@code adaptive.evicted=low-precision})
 * @param span           {@code span}: span length, entries per merged span, recent tokens left unmerged
 * @param layerSharing   groups of adjacent layers sharing one KV cache ({@code layer-condensed}; applies to any policy)
 */
public record KvPolicy(Kind kind, int sinks, Window window, HeavyHitter heavyHitter, Adaptive adaptive,
                       MixedPrecision mixedPrecision, Span span, LayerSharing layerSharing) {

    /** The policies, by their property values. */
    public enum Kind {
        FULL("full"), WINDOW("window"), HEAVY_HITTER("heavy-hitter"), ADAPTIVE("adaptive"),
        MIXED_PRECISION("mixed-precision"), SPAN("span"), LAYER_CONDENSED("layer-condensed");

        private final String value;

        Kind(String value) {
            this.value = value;
        }

        public String value() {
            return value;
        }

        public static Kind of(String value) {
            for (Kind kind : values()) {
                if (kind.value.equals(value)) {
                    return kind;
                }
            }
            throw new IllegalArgumentException("kvcache.policy: '" + value + "' is not a policy; allowed values are "
                    + String.join(", ", Arrays.stream(values()).map(Kind::value).toList()));
        }
    }

    /** @param recent recent tokens kept besides the sinks */
    public record Window(int recent) {
    }

    /** @param recentRatio share of the sequence kept as the most recent tokens; @param heavyRatio share kept by accumulated attention */
    public record HeavyHitter(double recentRatio, double heavyRatio) {
    }

    /** What {@code adaptive} does with the tokens its chosen per-head policy leaves out. */
    public enum Evicted {
        DROP("drop"), LOW_PRECISION("low-precision");

        private final String value;

        Evicted(String value) {
            this.value = value;
        }

        public String value() {
            return value;
        }
    }

    /**
     * @param recoveryThreshold share of a head's attention mass the chosen policy must keep (T)
     * @param localRatio        share of the sequence the local window covers
     * @param frequencyRatio    share kept by accumulated attention
     * @param evicted           drop the rest, or keep it in low precision (with mixed-precision's settings)
     */
    public record Adaptive(double recoveryThreshold, double localRatio, double frequencyRatio, Evicted evicted) {
    }

    /**
     * @param importantRatio share of the sequence kept at high precision (half recent, half heavy hitters)
     * @param highBits       16 (fp16) or 8
     * @param lowBits        4, 3 or 2
     * @param groupSize      values per quantization group
     * @param balanceKeys    outlier-aware balancing of key channels before low-bit quantization
     */
    public record MixedPrecision(double importantRatio, int highBits, int lowBits, int groupSize, boolean balanceKeys) {
    }

    /** @param length tokens per closed span; @param entries merged entries a span becomes; @param recent recent tokens never merged */
    public record Span(int length, int entries, int recent) {
    }

    /** @param groups groups of adjacent layers; the first layer of each holds the KV the others attend to */
    public record LayerSharing(List<int[]> groups) {
        public static final LayerSharing NONE = new LayerSharing(List.of());

        /** The layer whose cache {@code layer} attends to. */
        public int owner(int layer) {
            for (int[] group : groups) {
                if (layer >= group[0] && layer <= group[1]) {
                    return group[0];
                }
            }
            return layer;
        }

        @Override
        public String toString() {
            return String.join(",", groups.stream().map(g -> g[0] + "-" + g[1]).toList());
        }
    }

    /** Default settings (see docs/kv-quality.md for the measurements behind them). */
    public static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("sinks", "4");
        d.put("window.recent", "128");
        d.put("heavy-hitter.recent-ratio", "0.1");
        d.put("heavy-hitter.heavy-ratio", "0.1");
        d.put("adaptive.recovery-threshold", "0.95");
        d.put("adaptive.local-ratio", "0.3");
        d.put("adaptive.frequency-ratio", "0.3");
        d.put("adaptive.evicted", "drop");
        d.put("mixed-precision.important-ratio", "0.1");
        d.put("mixed-precision.high-bits", "16");
        d.put("mixed-precision.low-bits", "4");
        d.put("mixed-precision.group-size", "32");
        d.put("mixed-precision.balance-keys", "true");
        d.put("span.length", "8");
        d.put("span.entries", "1");
        d.put("span.recent", "64");
        d.put("layer-condensed.share-groups", "");
        return Map.copyOf(d);
    }

    /** The full cache, nothing compressed. */
    public static KvPolicy full() {
        return parse("full", Map.of());
    }

    /**
     * A policy from its name and settings ({@link #DEFAULTS} fill the rest).
     *
     * @throws IllegalArgumentException naming the setting, the bad value and what is allowed
     */
    public static KvPolicy parse(String policy, Map<String, String> settings) {
        for (String key : settings.keySet()) {
            if (!DEFAULTS.containsKey(key)) {
                throw new IllegalArgumentException("kvcache." + key + ": unknown setting; known settings are "
                        + String.join(", ", DEFAULTS.keySet().stream().sorted().toList()));
            }
        }
        Map<String, String> all = new LinkedHashMap<>(DEFAULTS);
        all.putAll(settings);
        Settings s = new Settings(all);
        Kind kind = Kind.of(policy);
        int sinks = s.integer("sinks", 0, 1 << 20);
        Window window = new Window(s.integer("window.recent", 1, 1 << 24));
        HeavyHitter heavyHitter = new HeavyHitter(s.ratio("heavy-hitter.recent-ratio"), s.ratio("heavy-hitter.heavy-ratio"));
        Adaptive adaptive = new Adaptive(s.ratio("adaptive.recovery-threshold"), s.ratio("adaptive.local-ratio"),
                s.ratio("adaptive.frequency-ratio"), s.choice("adaptive.evicted", Evicted.values(), Evicted::value));
        MixedPrecision mixed = new MixedPrecision(s.ratio("mixed-precision.important-ratio"),
                s.oneOf("mixed-precision.high-bits", 16, 8), s.oneOf("mixed-precision.low-bits", 4, 3, 2),
                s.integer("mixed-precision.group-size", 1, 1 << 16), s.bool("mixed-precision.balance-keys"));
        int spanLength = s.integer("span.length", 2, 1 << 16);
        int spanEntries = s.integer("span.entries", 1, spanLength - 1);
        if (spanLength % spanEntries != 0) {
            throw new IllegalArgumentException("kvcache.span.entries: " + spanEntries + " must divide span.length "
                    + spanLength);
        }
        Span span = new Span(spanLength, spanEntries, s.integer("span.recent", 0, 1 << 24));
        // With no groups, layer-condensed pairs adjacent layers (resolved against the model by KvCache).
        LayerSharing sharing = parseGroups(all.get("layer-condensed.share-groups"));
        return new KvPolicy(kind, sinks, window, heavyHitter, adaptive, mixed, span, sharing);
    }

    /** "0-1,2-3" into groups of adjacent layers, each at least two layers, not overlapping. */
    static LayerSharing parseGroups(String text) {
        if (text.isBlank()) {
            return LayerSharing.NONE;
        }
        List<int[]> groups = new ArrayList<>();
        int next = 0;
        for (String part : text.split(",")) {
            String[] ends = part.trim().split("-");
            try {
                int first = Integer.parseInt(ends[0].trim());
                int last = ends.length == 2 ? Integer.parseInt(ends[1].trim()) : -1;
                if (ends.length != 2 || last <= first || first < next) {
                    throw new NumberFormatException();
                }
                groups.add(new int[] {first, last});
                next = last + 1;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("kvcache.layer-condensed.share-groups: '" + text
                        + "' must list ascending, non-overlapping ranges of at least two layers, like 0-1,2-3");
            }
        }
        return new LayerSharing(List.copyOf(groups));
    }

    /** The policy's name and the settings it reads (its own group, the sinks, any layer sharing). */
    public Map<String, String> describe() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("policy", kind.value());
        d.put("sinks", Integer.toString(sinks));
        switch (kind) {
            case WINDOW -> d.put("window.recent", Integer.toString(window.recent()));
            case HEAVY_HITTER -> {
                d.put("heavy-hitter.recent-ratio", format(heavyHitter.recentRatio()));
                d.put("heavy-hitter.heavy-ratio", format(heavyHitter.heavyRatio()));
            }
            case ADAPTIVE -> {
                d.put("adaptive.recovery-threshold", format(adaptive.recoveryThreshold()));
                d.put("adaptive.local-ratio", format(adaptive.localRatio()));
                d.put("adaptive.frequency-ratio", format(adaptive.frequencyRatio()));
                d.put("adaptive.evicted", adaptive.evicted().value());
                if (adaptive.evicted() == Evicted.LOW_PRECISION) {
                    d.put("mixed-precision.low-bits", Integer.toString(mixedPrecision.lowBits()));
                    d.put("mixed-precision.group-size", Integer.toString(mixedPrecision.groupSize()));
                }
            }
            case MIXED_PRECISION -> {
                d.put("mixed-precision.important-ratio", format(mixedPrecision.importantRatio()));
                d.put("mixed-precision.high-bits", Integer.toString(mixedPrecision.highBits()));
                d.put("mixed-precision.low-bits", Integer.toString(mixedPrecision.lowBits()));
                d.put("mixed-precision.group-size", Integer.toString(mixedPrecision.groupSize()));
                d.put("mixed-precision.balance-keys", Boolean.toString(mixedPrecision.balanceKeys()));
            }
            case SPAN -> {
                d.put("span.length", Integer.toString(span.length()));
                d.put("span.entries", Integer.toString(span.entries()));
                d.put("span.recent", Integer.toString(span.recent()));
            }
            case FULL, LAYER_CONDENSED -> {
            }
        }
        if (!layerSharing.groups().isEmpty() || kind == Kind.LAYER_CONDENSED) {
            d.put("layer-condensed.share-groups", layerSharing.toString());
        }
        return d;
    }

    private static String format(double value) {
        return String.format(Locale.ROOT, "%s", value);
    }

    /** Typed reads of the string settings, with errors that name the property. */
    private record Settings(Map<String, String> values) {
        String raw(String key) {
            return values.get(key).trim();
        }

        IllegalArgumentException bad(String key, String allowed) {
            return new IllegalArgumentException("kvcache." + key + ": '" + raw(key) + "' is not allowed; " + allowed);
        }

        int integer(String key, int min, int max) {
            try {
                int v = Integer.parseInt(raw(key));
                if (v >= min && v <= max) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw bad(key, "expected an integer from " + min + " to " + max);
        }

        double ratio(String key) {
            try {
                double v = Double.parseDouble(raw(key));
                if (v >= 0 && v <= 1) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw bad(key, "expected a number from 0 to 1");
        }

        int oneOf(String key, int... allowed) {
            for (int a : allowed) {
                if (raw(key).equals(Integer.toString(a))) {
                    return a;
                }
            }
            throw bad(key, "allowed values are " + String.join(", ", Arrays.stream(allowed).mapToObj(Integer::toString).toList()));
        }

        boolean bool(String key) {
            return switch (raw(key)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw bad(key, "allowed values are true, false");
            };
        }

        <E> E choice(String key, E[] options, Function<E, String> name) {
            for (E option : options) {
                if (name.apply(option).equals(raw(key))) {
                    return option;
                }
            }
            throw bad(key, "allowed values are " + String.join(", ", Arrays.stream(options).map(name).toList()));
        }
    }
}
