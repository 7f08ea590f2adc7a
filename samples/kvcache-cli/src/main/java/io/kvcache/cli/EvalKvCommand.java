package io.kvcache.cli;

import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.eval.KvQuality;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** The quality of one KV-cache policy against the full cache of the same model on a text file. */
@Command(name = "eval-kv", mixinStandardHelpOptions = true,
        description = "Measure a KV-cache policy's quality against the full cache.")
final class EvalKvCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Mixin
    ThreadsOption threads;

    @Mixin
    TextFileOption file;

    @Mixin
    PolicyOptions policy;

    @Option(names = "--context", description = "Tokens per chunk (default: the model's context, at most 512)")
    Integer context;

    @Option(names = "--chunks", description = "Chunks of the text evaluated at most (default ${DEFAULT-VALUE})")
    int chunks = 4;

    @Option(names = "--greedy-tokens", description = "Tokens per greedy comparison (default ${DEFAULT-VALUE})")
    int greedyTokens = 32;

    @Option(names = "--recall-probes", description = "Long-range recall documents (default ${DEFAULT-VALUE})")
    int recallProbes = 8;

    @Option(names = "--rereads", description = "Chunks whose first half, compacted as a first turn, a second turn "
            + "re-reads (default ${DEFAULT-VALUE})")
    int rereads = 0;

    @Override
    public Integer call() {
        KvCacheConfig kvPolicy = policy.policy();
        String text = file.read();
        try (Model model = options.load(); ComputePool pool = threads.pool()) {
            KvQuality.Settings run = QualityFields.settings(model.config(), context, chunks, greedyTokens, recallProbes,
                    rereads);
            long t0 = System.nanoTime();
            KvQuality.Report report = new KvQuality(model, new CpuForwardPass(model, pool)).evaluate(text, kvPolicy, run);
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", model.config().name());
            out.put("context", run.context());
            out.put("chunks", run.chunks());
            out.put("recall_probes", run.recallProbes());
            out.put("rereads", Math.min(run.rereads(), run.chunks()));
            out.putAll(QualityFields.of(report));
            out.put("seconds", seconds);
            System.out.println(options.json ? Json.write(out) : QualityFields.table(out));
        }
        return 0;
    }
}
