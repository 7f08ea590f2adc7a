package io.kvcache.cli;

import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.eval.KvQuality;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The KV-cache quality report: every policy of {@link KvSweep} on every model, written as a
 * markdown table per model and a chart of quality against memory.
 */
@Command(name = "kv-report", mixinStandardHelpOptions = true,
        description = "Measure every KV-cache policy at several budgets; write kv-quality.md and kv-quality.png.")
final class KvReportCommand implements Callable<Integer> {
    /** Tokens per greedy comparison and recall documents per evaluation: eval-kv's defaults. */
    static final int GREEDY_TOKENS = 32;
    static final int RECALL_PROBES = 8;
    /** Where the sections written by other scripts begin in kv-quality.md. */
    static final String KEPT_FROM = "<!-- written by scripts/kv-type-report.sh -->";

    @Option(names = "--out", required = true, description = "Folder for kv-quality.md and kv-quality.png")
    Path out;

    @Option(names = "--models", split = ",",
            defaultValue = "${sys:kvcache.shared.dir:-../shared}/models/tiny/stories260K.gguf,"
                    + "${sys:kvcache.shared.dir:-../shared}/models/tiny/tinystories-656k.gguf",
            description = "Model files (default ${DEFAULT-VALUE})")
    List<Path> models;

    @Option(names = "--text", defaultValue = "${sys:kvcache.shared.dir:-../shared}/eval/tinystories-eval.txt",
            description = "UTF-8 text to evaluate on (default ${DEFAULT-VALUE})")
    Path text;

    // 24 chunks of 512 tokens (nearly all the eval text holds for the 656K model): four to five
    // minutes for both tiny models on two shared cores
    @Option(names = "--chunks", description = "Chunks of the text evaluated per policy at most (default ${DEFAULT-VALUE})")
    int chunks = 24;

    @Option(names = "--context", description = "Tokens per chunk (default: each model's context, at most 512)")
    Integer context;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() {
        String body = TextFileOption.read(text);
        createOut(); // before minutes of measuring, not after
        long t0 = System.nanoTime();
        List<ModelQuality> results = new ArrayList<>();
        for (Path file : models) {
            results.add(sweep(file, body));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Path markdown = out.resolve("kv-quality.md");
        Path chart = out.resolve("kv-quality.png");
        try {
            Files.writeString(markdown, QualityMarkdown.render(results, text, threads.threads, seconds) + keptSections(markdown));
            QualityChart.write(results, chart);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report into " + out + ": " + e.getMessage(), e);
        }
        System.out.printf(Locale.ROOT, "wrote %s and %s in %.0f s%n", markdown, chart, seconds);
        return 0;
    }

    /**
     * The sections of an existing report that another script writes (from {@link #KEPT_FROM} on,
     * e.g. scripts/kv-type-report.sh's), so that rewriting the report keeps them.
     */
    private static String keptSections(Path markdown) throws IOException {
        if (!Files.exists(markdown)) {
            return "";
        }
        String old = Files.readString(markdown);
        int at = old.indexOf(KEPT_FROM);
        return at < 0 ? "" : "\n" + old.substring(at);
    }

    private void createOut() {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + out + ": " + e.getMessage(), e);
        }
    }

    private ModelQuality sweep(Path file, String body) {
        try (Model model = Model.load(file); ComputePool pool = threads.pool()) {
            KvQuality quality = new KvQuality(model, new CpuForwardPass(model, pool));
            KvQuality.Settings settings = QualityFields.settings(model.config(), context, chunks, GREEDY_TOKENS, RECALL_PROBES, 0);
            List<ModelQuality.Row> rows = new ArrayList<>();
            long t0 = System.nanoTime();
            for (KvSweep.Point point : KvSweep.POINTS) {
                long start = System.nanoTime();
                KvQuality.Report report = quality.evaluate(body, KvCacheConfig.parse(point.policy(), point.settings()), settings);
                ModelQuality.Row row = new ModelQuality.Row(point, report, (System.nanoTime() - start) / 1e9);
                rows.add(row);
                progress(file, rows.size(), row);
            }
            return new ModelQuality(file, model.config(), settings, List.copyOf(rows), (System.nanoTime() - t0) / 1e9);
        }
    }

    /** One line per evaluation on standard error, so a run of minutes shows it is moving. */
    private static void progress(Path file, int done, ModelQuality.Row row) {
        System.err.printf(Locale.ROOT, "%s %d/%d %s %s: memory %.3f, KL %.4g (%.1f s)%n", file.getFileName(), done,
                KvSweep.POINTS.size(), row.point().policy(), row.point().describe(), row.report().memoryRatio(),
                row.report().meanKl(), row.seconds());
    }
}
