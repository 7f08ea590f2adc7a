package io.kvcache.cli;

import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.generate.GenerationResult;
import io.kvcache.core.generate.GenerationStep;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.generate.TokenProbability;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.core.tensor.ComputePool;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Generates a continuation of a prompt, streaming it to standard output (or printing JSON at the end). */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text after a prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Mixin
    ThreadsOption threads;

    @Mixin
    PolicyOptions policy;

    @ArgGroup(multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", description = "Prompt text (BOS added where the model adds it)")
        String text;

        @Option(names = "--prompt-ids", split = ",", description = "Prompt as token ids, e.g. 1,2,3")
        int[] ids;
    }

    @Option(names = "--max-tokens", description = "Most tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens = 64;

    @Option(names = "--temperature", description = "0 for greedy (default ${DEFAULT-VALUE})")
    float temperature = 0f;

    @Option(names = "--top-k", description = "Keep the k most likely tokens, 0 for all (default ${DEFAULT-VALUE})")
    int topK = 40;

    @Option(names = "--top-p", description = "Nucleus sampling threshold (default ${DEFAULT-VALUE})")
    float topP = 0.95f;

    @Option(names = "--min-p", description = "Drop tokens below this fraction of the top probability (default ${DEFAULT-VALUE})")
    float minP = 0.05f;

    @Option(names = "--repeat-penalty", description = "Repetition penalty, 1 for none (default ${DEFAULT-VALUE})")
    float repeatPenalty = 1f;

    @Option(names = "--seed", description = "Sampling seed (default ${DEFAULT-VALUE})")
    long seed = 42;

    @Option(names = "--stop", description = "Stop string (repeatable)")
    List<String> stop = new ArrayList<>();

    @Option(names = "--top-probs", description = "Report the K most likely tokens per step")
    int topProbs;

    @Override
    public Integer call() {
        SamplingParams params = new SamplingParams(temperature, topK, topP, minP, repeatPenalty, 64, seed, maxTokens, stop);
        try (Model model = options.load(); ComputePool pool = threads.pool()) {
            Generator generator = new Generator(model, new CpuForwardPass(model, pool));
            int[] ids = prompt.ids != null ? prompt.ids : model.tokenizer().encode(prompt.text, true, true);
            KvCache cache = policy.cache(model, model.config().contextLength());
            GenerationResult result = generator.generate(cache, ids, params, topProbs, step -> {
                if (!options.json) {
                    System.out.print(step.text());
                    System.out.flush();
                }
                return true;
            });
            if (options.json) {
                Map<String, Object> out = report(result);
                KvMemoryReport memory = cache.memory();
                out.put("kv_cache", Map.of("policy", policy.policy().name(), "bytes_held", memory.bytesHeld(),
                        "full_bytes", memory.fullBytes(), "ratio", memory.ratio()));
                System.out.println(Json.write(out));
            } else {
                System.out.println();
                System.err.printf("prefill: %d tokens, %.1f tokens/s; decode: %d tokens, %.1f tokens/s; finish: %s%n",
                        result.promptTokens().length, result.prefillTokensPerSecond(), result.tokens().length,
                        result.decodeTokensPerSecond(), result.finishReason());
            }
        }
        return 0;
    }

    private static Map<String, Object> report(GenerationResult result) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("prompt_ids", result.promptTokens());
        out.put("generated_ids", result.tokens());
        out.put("text", result.text());
        out.put("finish_reason", result.finishReason().name().toLowerCase());
        if (!result.steps().isEmpty() && !result.steps().getFirst().top().isEmpty()) {
            List<Object> steps = new ArrayList<>();
            for (GenerationStep step : result.steps()) {
                List<Object> top = new ArrayList<>();
                for (TokenProbability p : step.top()) {
                    top.add(Arrays.asList(p.id(), p.probability()));
                }
                steps.add(Map.of("id", step.token(), "top", top));
            }
            out.put("steps", steps);
        }
        out.put("prefill_tokens_per_second", result.prefillTokensPerSecond());
        out.put("decode_tokens_per_second", result.decodeTokensPerSecond());
        return out;
    }
}
