package io.kvcache.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The policy settings kv-report measures: each policy at several budgets, so the report shows how
 * quality falls as memory shrinks rather than one point per policy.
 */
final class KvSweep {
    /**
     * One measured configuration.
     *
     * @param series   the chart series it belongs to (a policy, or a composition of two)
     * @param policy   the {@code kvcache.policy} value
     * @param settings settings beyond the defaults, without the {@code kvcache.} prefix
     */
    record Point(String series, String policy, Map<String, String> settings) {
        /** The settings as {@code --set} takes them, in the order the sweep lists them. */
        String describe() {
            return settings.isEmpty() ? "defaults" : settings.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
        }
    }

    static final List<Point> POINTS = points();

    private KvSweep() {
    }

    private static List<Point> points() {
        List<Point> points = new ArrayList<>();
        points.add(new Point("full", "full", set()));
        for (String recent : List.of("32", "64", "128", "192")) {
            points.add(new Point("window", "window", set("window.recent", recent)));
        }
        // equal recent and heavy-hitter shares, as H2O splits its budget
        for (String ratio : List.of("0.05", "0.1", "0.2", "0.3")) {
            points.add(new Point("heavy-hitter", "heavy-hitter",
                    set("heavy-hitter.recent-ratio", ratio, "heavy-hitter.heavy-ratio", ratio)));
        }
        for (String threshold : List.of("0.9", "0.95", "0.99")) {
            points.add(new Point("adaptive", "adaptive",
                    set("adaptive.recovery-threshold", threshold, "adaptive.evicted", "drop")));
        }
        points.add(new Point("adaptive + low-precision", "adaptive",
                set("adaptive.recovery-threshold", "0.95", "adaptive.evicted", "low-precision")));
        // one series per important share, so each line shows what fewer low bits cost
        for (String important : List.of("0.1", "0.2")) {
            for (String bits : List.of("2", "3", "4")) {
                points.add(new Point("mixed-precision, important " + important, "mixed-precision",
                        set("mixed-precision.important-ratio", important, "mixed-precision.low-bits", bits)));
            }
        }
        for (String length : List.of("4", "8", "16")) {
            points.add(new Point("span", "span", set("span.length", length)));
        }
        points.add(new Point("layer-condensed", "layer-condensed", set()));
        return List.copyOf(points);
    }

    /** Settings from key, value pairs, kept in the order given so tables and logs read the same every run. */
    private static Map<String, String> set(String... keyValues) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            settings.put(keyValues[i], keyValues[i + 1]);
        }
        return Collections.unmodifiableMap(settings);
    }
}
