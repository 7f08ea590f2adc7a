package io.kvcache.cli;

import io.kvcache.core.eval.KvQuality;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.ModelConfig;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** kv-quality.md: a summary, a table per model and how the figures were measured, all from the results. */
final class QualityMarkdown {
    /** The memory budget the summary compares policies at: half of the full cache. */
    static final double SUMMARY_BUDGET = 0.5;

    private QualityMarkdown() {
    }

    static String render(List<ModelQuality> results, Path text, int threads, double seconds) {
        StringBuilder md = new StringBuilder();
        md.append("# KV-cache quality\n\n")
                .append("Every KV-cache policy at several budgets against the full fp16 cache of the same model. ")
                .append("Written by `scripts/kv-quality-report.sh` (`bin/kvcache kv-report`); do not edit by hand. ")
                .append("How the figures are measured is at the end.\n\n")
                .append("![mean KL and top-1 agreement against memory ratio](kv-quality.png)\n\n");
        summary(md, results);
        for (ModelQuality result : results) {
            table(md, result);
        }
        howMeasured(md, results, text, threads, seconds);
        return md.toString();
    }

    private static void summary(StringBuilder md, List<ModelQuality> results) {
        md.append("## Best setting per policy at memory ratio ≤ ").append(SUMMARY_BUDGET).append("\n\n")
                .append("The setting with the lowest mean KL among those holding at most ")
                .append(fmt("%.0f", SUMMARY_BUDGET * 100)).append("% of the full cache's bytes.\n\n")
                .append("| policy |");
        results.forEach(r -> md.append(' ').append(r.label()).append(" |"));
        md.append("\n|---|").append("---|".repeat(results.size())).append('\n');
        for (String series : KvSweep.POINTS.stream().map(KvSweep.Point::series).distinct().toList()) {
            md.append("| ").append(series).append(" |");
            for (ModelQuality result : results) {
                md.append(' ').append(best(result, series)).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
    }

    private static String best(ModelQuality result, String series) {
        List<ModelQuality.Row> rows = result.rows().stream().filter(r -> r.point().series().equals(series)).toList();
        Optional<ModelQuality.Row> best = rows.stream().filter(r -> r.report().memoryRatio() <= SUMMARY_BUDGET)
                .min(Comparator.comparingDouble(r -> r.report().meanKl()));
        if (best.isEmpty()) {
            double smallest = rows.stream().mapToDouble(r -> r.report().memoryRatio()).min().orElse(Double.NaN);
            return "none (smallest ratio " + fmt("%.3f", smallest) + ")";
        }
        KvQuality.Report r = best.get().report();
        return fmt("KL %s, top-1 %.3f at ratio %.3f", kl(r.meanKl()), r.top1Agreement(), r.memoryRatio())
                + " (" + best.get().point().describe() + ")";
    }

    private static void table(StringBuilder md, ModelQuality result) {
        ModelConfig c = result.config();
        KvQuality.Report first = result.rows().getFirst().report();
        md.append("## ").append(result.label()).append("\n\n")
                .append(fmt("`%s`: %d layers, %d query and %d KV heads of %d dimensions, context %d. ", c.name(),
                        c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.contextLength()))
                .append(fmt("Full-cache perplexity %.3f over %d scored tokens; the sweep took %.0f s.",
                        first.fullPerplexity(), first.scoredTokens(), result.seconds()))
                .append(first.fullRecallAccuracy() == 0 ? " The full cache recalls no name itself (accuracy 0), so "
                        + "the recall columns cannot tell the policies apart on this model." : "")
                .append("\n\n")
                .append("| policy | settings | memory ratio | PPL (full) | top-1 agreement | mean KL | greedy match (of ")
                .append(result.settings().greedyTokens())
                .append(") | recall p (full) | recall accuracy (full) |\n")
                .append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ModelQuality.Row row : result.rows()) {
            KvQuality.Report r = row.report();
            md.append("| ").append(row.point().series()).append(" | ").append(row.point().describe())
                    .append(fmt(" | %.3f | %.3f (%.3f) | %.3f | %s | %.1f | %.4f (%.4f) | %.2f (%.2f) |%n",
                            r.memoryRatio(), r.perplexity(), r.fullPerplexity(), r.top1Agreement(), kl(r.meanKl()),
                            r.greedyMatch(), r.recallProbability(), r.fullRecallProbability(), r.recallAccuracy(),
                            r.fullRecallAccuracy()));
        }
        md.append('\n');
    }

    private static void howMeasured(StringBuilder md, List<ModelQuality> results, Path text, int threads, double seconds) {
        KvQuality.Settings s = results.getFirst().settings();
        int prompt = s.context() / 2;
        md.append("## How measured\n\n")
                .append(fmt("- Text: `%s`, cut into chunks of %d tokens after tokenization (BOS first where the model "
                        + "adds one); at most %d chunks per model (", text.getFileName(), s.context(), s.chunks()))
                .append(results.stream().map(r -> r.label() + ": " + r.chunks()).collect(Collectors.joining(", ")))
                .append(").\n")
                .append(fmt("- In each chunk the first %d tokens are the prompt, evaluated in one batch (when `adaptive` "
                        + "profiles its heads); the other %d are fed one at a time, teacher-forced, to a full cache and "
                        + "to the policy's cache, compressing after every step. Those %d next-token predictions are "
                        + "scored.%n", prompt, s.context() - prompt, s.context() - prompt))
                .append("- Memory ratio: bytes the policy's cache holds (payload, scales, positions, statistics) over "
                        + "the bytes of the full fp16 cache for the same tokens, at the end of each chunk, mean over "
                        + "chunks.\n")
                .append("- PPL: perplexity of the scored tokens under the policy; in brackets under the full cache. ")
                .append("Top-1 agreement: share of scored positions where both caches rank the same token first. ")
                .append("Mean KL: KL(full ‖ policy) of the next-token distributions, in nats, mean over scored "
                        + "positions.\n")
                .append(fmt("- Greedy match: from each chunk's prompt, %d greedy tokens with either cache; the length "
                        + "of their common prefix, mean over chunks.%n", s.greedyTokens()))
                .append(fmt("- Recall: %d documents of %d tokens that name an invented character in their first "
                        + "sentence, continue with text from the file and name the character again at the end. "
                        + "Recall p: probability of the name's first token there; accuracy: share of documents where "
                        + "every name token ranks first. In brackets: the full cache.%n", s.recallProbes(), s.context()))
                .append(fmt("- Every policy keeps the first %s tokens (attention sinks). Settings a row does not "
                        + "list take their defaults: ", KvCacheConfig.DEFAULTS.get("sinks")))
                .append(KvCacheConfig.DEFAULTS.keySet().stream().sorted()
                        .map(k -> "`" + k + "=" + KvCacheConfig.DEFAULTS.get(k) + "`").collect(Collectors.joining(", ")))
                .append(". An empty `layer-condensed.share-groups` shares adjacent pairs of layers.\n")
                .append(fmt("- Chart: per model, mean KL (log scale; a KL of 0, the full cache's, is drawn at %.0e) and "
                        + "top-1 agreement against memory ratio; one series per policy (mixed-precision: one per "
                        + "important share), its points joined in order of memory.%n", QualityChart.KL_FLOOR))
                .append(fmt("- %d compute threads; the whole report took %.0f s.%n", threads, seconds));
    }

    /** Four decimals, or two significant digits below 0.001, where four decimals would read as a plain 0. */
    private static String kl(double value) {
        return value == 0 || value >= 1e-3 ? fmt("%.4f", value) : fmt("%.1e", value);
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
