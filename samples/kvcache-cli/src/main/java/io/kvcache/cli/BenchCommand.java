package io.kvcache.cli;

import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.grammar.Grammar;
import io.kvcache.core.grammar.TokenConstraint;
import io.kvcache.core.grammar.TokenGrammar;
import io.kvcache.core.grammar.TokenTrie;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.Sampler;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.core.tensor.ComputePool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * Prefill and decode speed: evaluates a prompt of random tokens in one batch, then decodes greedily
 * token by token, after a short warm-up that lets the JIT compile the kernels. The KV cache runs
 * the chosen policy, so compressed and full decoding compare at the same context length. With
 * {@code --json-schema} or {@code --grammar}, decoding is measured a second time in the same run
 * held to that grammar (each step masks the logits, picks the best allowed token and follows it; a
 * finished document starts the next), so the cost of constrained decoding reads as a ratio.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure prefill and decode speed.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Mixin
    ThreadsOption threads;

    @Mixin
    PolicyOptions policy;

    @Option(names = "--prompt-tokens", description = "Prompt length (default ${DEFAULT-VALUE})")
    int promptTokens = 512;

    @Option(names = "--gen-tokens", description = "Tokens to decode (default ${DEFAULT-VALUE})")
    int genTokens = 128;

    @Option(names = "--repetitions", description = "Timed runs; the best is reported (default ${DEFAULT-VALUE})")
    int repetitions = 3;

    @Option(names = "--json-schema", description = "Also decode held to this JSON schema (a file)")
    Path jsonSchema;

    @Option(names = "--grammar", description = "Also decode held to this GBNF grammar (a file)")
    Path grammar;

    @Override
    public Integer call() throws IOException {
        if (promptTokens < 1 || genTokens < 1 || repetitions < 1) {
            throw new IllegalArgumentException("--prompt-tokens, --gen-tokens and --repetitions must be at least 1");
        }
        try (Model model = options.load(); ComputePool pool = threads.pool()) {
            CpuForwardPass transformer = new CpuForwardPass(model, pool);
            if (promptTokens + genTokens > model.config().contextLength()) {
                throw new IllegalArgumentException("prompt + generated tokens (" + (promptTokens + genTokens)
                        + ") exceed the model's context of " + model.config().contextLength());
            }
            int[] prompt = new SplittableRandom(7).ints(promptTokens, 0, model.config().vocabularySize()).toArray();
            run(model, transformer, prompt, Math.min(promptTokens, 32), Math.min(genTokens, 16), null); // warm-up
            TokenGrammar constrained = constraint(model);
            double bestPrefill = 0;
            double bestDecode = 0;
            double bestConstrained = 0;
            double firstConstrained = 0;
            long maskNanos = Long.MAX_VALUE;
            long firstMaskNanos = 0;
            KvMemoryReport kv = null;
            for (int r = 0; r < repetitions; r++) {
                Run run = run(model, transformer, prompt, promptTokens, genTokens, null);
                bestPrefill = Math.max(bestPrefill, promptTokens * 1e9 / run.prefillNanos);
                bestDecode = Math.max(bestDecode, genTokens * 1e9 / run.decodeNanos);
                kv = run.kv;
                if (constrained != null) {
                    Run held = run(model, transformer, prompt, promptTokens, genTokens, constrained);
                    double speed = genTokens * 1e9 / held.decodeNanos;
                    firstConstrained = r == 0 ? speed : firstConstrained;
                    firstMaskNanos = r == 0 ? held.maskNanos : firstMaskNanos;
                    bestConstrained = Math.max(bestConstrained, speed);
                    maskNanos = Math.min(maskNanos, held.maskNanos);
                }
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", model.config().name());
            out.put("threads", pool.threads());
            out.put("prompt_tokens", promptTokens);
            out.put("gen_tokens", genTokens);
            out.put("prefill_tokens_per_second", bestPrefill);
            out.put("decode_tokens_per_second", bestDecode);
            if (constrained != null) {
                out.put("constrained_decode_tokens_per_second", bestConstrained);
                out.put("constrained_first_run_tokens_per_second", firstConstrained);
                out.put("constrained_decode_ratio", bestConstrained / bestDecode);
                out.put("mask_microseconds_per_token", maskNanos / 1e3 / genTokens);
                out.put("mask_first_run_microseconds_per_token", firstMaskNanos / 1e3 / genTokens);
            }
            out.put("weights_bytes", fileSize(model.source()));
            out.put("kv_policy", policy.policy().describe());
            out.put("kv_cache_bytes", kv.bytesHeld());
            out.put("kv_full_cache_bytes", kv.fullBytes());
            out.put("peak_heap_bytes", peakHeap());
            out.put("off_heap_bytes", bufferPools());
            out.put("peak_rss_bytes", peakResident());
            if (options.json) {
                System.out.println(Json.write(out));
            } else {
                out.forEach((k, v) -> System.out.println(k + ": " + (v instanceof Double d ? String.format("%.1f", d) : v)));
            }
        }
        return 0;
    }

    private record Run(long prefillNanos, long decodeNanos, long maskNanos, KvMemoryReport kv) {
    }

    /** The grammar of --json-schema or --grammar on the model's vocabulary; null when neither is given. */
    private TokenGrammar constraint(Model model) throws IOException {
        if (jsonSchema != null && grammar != null) {
            throw new IllegalArgumentException("give --json-schema or --grammar, not both");
        }
        if (jsonSchema == null && grammar == null) {
            return null;
        }
        Grammar g = jsonSchema != null ? Grammar.fromJsonSchema(Files.readString(jsonSchema))
                : Grammar.parse(Files.readString(grammar));
        return new TokenGrammar(g, TokenTrie.of(model.tokenizer()));
    }

    /** Prefill, then greedy decoding; held to {@code grammar} when it is not null (a finished document starts another). */
    private Run run(Model model, CpuForwardPass transformer, int[] prompt, int promptLength, int decodeSteps,
                    TokenGrammar grammar) {
        KvCache cache = policy.cache(model, promptLength + decodeSteps);
        int vocabulary = model.config().vocabularySize();
        long t0 = System.nanoTime();
        float[] logits = transformer.forward(cache, prompt, 0, promptLength, ForwardPass.Logits.LAST);
        long t1 = System.nanoTime();
        long maskNanos = 0;
        int[] next = {Sampler.argmax(logits, 0, vocabulary)};
        if (grammar == null) {
            // Decode steps as generation runs them: greedy picks, the logits never leaving the backend.
            Sampler greedy = new Sampler(SamplingParams.greedy(decodeSteps));
            for (int i = 0; i < decodeSteps; i++) {
                next[0] = transformer.forwardAndSample(cache, next, 0, 1, greedy, next, 1);
            }
        } else {
            // A constrained step needs the logits on the heap to mask them before the pick.
            TokenConstraint constraint = grammar.start();
            for (int i = 0; i < decodeSteps; i++) {
                long m0 = System.nanoTime();
                constraint.mask(logits, 0, vocabulary, decodeSteps - i);
                next[0] = Sampler.argmax(logits, 0, vocabulary);
                constraint.accept(next[0]);
                if (constraint.isComplete()) {
                    constraint = grammar.start();
                }
                maskNanos += System.nanoTime() - m0;
                logits = transformer.forward(cache, next, 0, 1, ForwardPass.Logits.LAST);
            }
        }
        long t2 = System.nanoTime();
        return new Run(t1 - t0, t2 - t1, maskNanos, cache.memory());
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** Direct and mapped buffers, the mapped model file included. */
    private static long bufferPools() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }

    /** Peak resident set of the process (VmHWM), or -1 where /proc is not available. */
    private static long peakResident() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static long fileSize(Path path) {
        try (var files = Files.walk(path)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            return -1;
        }
    }
}
