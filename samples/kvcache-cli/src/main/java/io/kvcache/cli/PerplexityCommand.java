package io.kvcache.cli;

import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.eval.Perplexity;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** Perplexity of a text file by llama.cpp's method (chunks of --context tokens, second half of each scored). */
@Command(name = "perplexity", mixinStandardHelpOptions = true, description = "Measure perplexity on a text file.")
final class PerplexityCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Mixin
    ThreadsOption threads;

    @Mixin
    TextFileOption file;

    @Option(names = "--context", description = "Tokens per chunk (default ${DEFAULT-VALUE})")
    int context = 512;

    @Override
    public Integer call() {
        String text = file.read();
        try (Model model = options.load(); ComputePool pool = threads.pool()) {
            long t0 = System.nanoTime();
            Perplexity.Result result = Perplexity.compute(model, new CpuForwardPass(model, pool), text, context);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (options.json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("ppl", result.perplexity());
                out.put("context", context);
                out.put("chunks", result.chunks());
                out.put("scored_tokens", result.scoredTokens());
                out.put("running_ppl_per_chunk", result.runningPerChunk());
                out.put("seconds", seconds);
                System.out.println(Json.write(out));
            } else {
                System.out.printf("PPL = %.4f over %d chunks of %d tokens (%d tokens scored, %.1f s)%n",
                        result.perplexity(), result.chunks(), context, result.scoredTokens(), seconds);
            }
        }
        return 0;
    }
}
