package io.kvcache.cli;

import io.kvcache.core.eval.KvQuality;
import io.kvcache.core.model.ModelConfig;

import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** The measurement settings of eval-kv and kv-report, and a quality report as output fields. */
final class QualityFields {
    /** Half of every chunk is decoded token by token, in time quadratic in its length: 512 keeps runs in minutes. */
    static final int MAX_DEFAULT_CONTEXT = 512;

    private QualityFields() {
    }

    /** The harness settings; a null {@code context} means the model's context, at most {@link #MAX_DEFAULT_CONTEXT}. */
    static KvQuality.Settings settings(ModelConfig config, Integer context, int chunks, int greedyTokens, int recallProbes,
                                       int rereads) {
        if (chunks < 1 || greedyTokens < 0 || recallProbes < 0 || rereads < 0) {
            throw new IllegalArgumentException("--chunks must be at least 1, --greedy-tokens, --recall-probes and --rereads at least 0");
        }
        int tokens = context != null ? context : Math.min(MAX_DEFAULT_CONTEXT, config.contextLength());
        return new KvQuality.Settings(tokens, chunks, greedyTokens, recallProbes, rereads);
    }

    /**
     * Every component of the report under its snake_case name, read from the record itself so a
     * component added to the harness is reported without a second list to keep in step; the
     * policy's description becomes {@code policy} (its name) and {@code settings} (the rest).
     */
    static Map<String, Object> of(KvQuality.Report report) {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, String> settings = new LinkedHashMap<>(report.policy());
        out.put("policy", settings.remove("policy"));
        out.put("settings", settings);
        for (RecordComponent component : KvQuality.Report.class.getRecordComponents()) {
            if (!component.getName().equals("policy")) {
                out.put(snakeCase(component.getName()), value(component, report));
            }
        }
        return out;
    }

    private static Object value(RecordComponent component, KvQuality.Report report) {
        try {
            return component.getAccessor().invoke(report);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + component.getName() + " of a quality report", e);
        }
    }

    static String snakeCase(String camel) {
        return camel.replaceAll("([A-Z])", "_$1").toLowerCase(Locale.ROOT);
    }

    /** Two aligned columns, names and values, for reading in a terminal. */
    static String table(Map<String, Object> fields) {
        int width = fields.keySet().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder out = new StringBuilder();
        fields.forEach((name, value) -> out.append(String.format(Locale.ROOT, "%-" + width + "s  %s%n", name, text(value))));
        return out.toString().stripTrailing();
    }

    private static String text(Object value) {
        return switch (value) {
            case Double d -> String.format(Locale.ROOT, "%.6g", d);
            case Map<?, ?> map -> map.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(", "));
            default -> String.valueOf(value);
        };
    }
}
