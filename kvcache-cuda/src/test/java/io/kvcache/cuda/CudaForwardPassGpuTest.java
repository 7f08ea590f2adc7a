package io.kvcache.cuda;

import io.kvcache.core.SharedData;
import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.Sampler;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CUDA forward pass against the CPU's on the shared models. Runs only where a GPU is usable
 * (skipped otherwise, with the probe's reason). The GPU takes activations as floats where the CPU
 * quantizes them as llama.cpp does (Q8_0 / Q8_K), so probabilities are compared with a tolerance
 * and greedy tokens only where the CPU's choice is not a near tie.
 */
class CudaForwardPassGpuTest {
    private static final double PROBABILITY_TOLERANCE = 0.02;
    private static final float NEAR_TIE = 0.1f;
    private static final int CONTEXT = 256;

    @BeforeEach
    void requireGpu() {
        CudaStatus status = CudaProbe.status();
        Assumptions.assumeTrue(status.usable(), () -> "skipped: no usable GPU (" + status.reason() + ")");
    }

    private static Backend open(Model model, int sequences) {
        return new CudaBackendProvider().open(model, new BackendSettings(1, CONTEXT, sequences));
    }

    private static int[] prompt(Model model) {
        int[] ids = model.tokenizer().encode("Once upon a time, there was a little girl who loved the sea.", true, true);
        return Arrays.copyOf(ids, Math.min(ids.length, 24));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny/stories260K.gguf", "tiny/tinystories-656k.gguf", "tiny/tinystories-656k-F16.gguf",
            "tiny/tinystories-656k-BF16.gguf", "tiny/tinystories-656k-Q8_0.gguf", "tiny/tinystories-656k-Q4_0.gguf",
            "synthetic/llama2-tiny-Q4_0.gguf", "synthetic/llama3-tiny-Q4_K_M.gguf", "synthetic/llama2-tiny-Q5_K_M.gguf",
            "synthetic/llama2-tiny-Q6_K.gguf", "synthetic/qwen2-tiny-Q8_0.gguf", "synthetic/qwen3-tiny-Q8_0.gguf"})
    void logitsFollowTheCpuThroughPrefillAndDecode(String name) {
        try (Model model = Model.load(SharedData.require("models/" + name));
             ComputePool pool = new ComputePool(2);
             Backend gpu = open(model, 1)) {
            CpuForwardPass cpu = new CpuForwardPass(model, pool);
            KvCache cpuCache = new KvCache(model.config(), CONTEXT);
            Sequence gpuCache = fresh(gpu.forwardPass(), model);
            int[] prompt = prompt(model);
            float[] cpuAll = cpu.forward(cpuCache, prompt, 0, prompt.length, ForwardPass.Logits.ALL);
            float[] gpuAll = gpu.forwardPass().forward(gpuCache, prompt, 0, prompt.length, ForwardPass.Logits.ALL);
            int vocabulary = model.config().vocabularySize();
            for (int row = 0; row < prompt.length; row++) {
                compare(name + " prompt row " + row, Arrays.copyOfRange(cpuAll, row * vocabulary, (row + 1) * vocabulary),
                        Arrays.copyOfRange(gpuAll, row * vocabulary, (row + 1) * vocabulary));
            }
            int[] next = {argmax(Arrays.copyOfRange(cpuAll, (prompt.length - 1) * vocabulary, prompt.length * vocabulary))};
            for (int step = 0; step < 12; step++) {
                float[] c = cpu.forward(cpuCache, next, 0, 1, ForwardPass.Logits.LAST);
                float[] g = gpu.forwardPass().forward(gpuCache, next, 0, 1, ForwardPass.Logits.LAST);
                compare(name + " decode step " + step, c, g);
                next[0] = argmax(c);
            }
            assertThat(gpuCache.length()).isEqualTo(cpuCache.length());
        }
    }

    private static void compare(String what, float[] cpu, float[] gpu) {
        double[] p = softmax(cpu);
        double[] q = softmax(gpu);
        double worst = 0;
        for (int i = 0; i < p.length; i++) {
            worst = Math.max(worst, Math.abs(p[i] - q[i]));
        }
        assertThat(worst).as(what + ": largest probability difference").isLessThan(PROBABILITY_TOLERANCE);
        int best = argmax(cpu);
        float[] sorted = cpu.clone();
        Arrays.sort(sorted);
        if (sorted[sorted.length - 1] - sorted[sorted.length - 2] > NEAR_TIE) {
            assertThat(argmax(gpu)).as(what + ": most likely token").isEqualTo(best);
        }
    }

    private static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void theDeviceSamplerPicksWhatTheLogitsAllow() {
        try (Model model = Model.load(SharedData.require("models/tiny/tinystories-656k-Q8_0.gguf"));
             Backend gpu = open(model, 2)) {
            ForwardPass pass = gpu.forwardPass();
            int[] prompt = prompt(model);
            Sequence reference = fresh(pass, model);
            float[] logits = pass.forward(reference, prompt, 0, prompt.length, ForwardPass.Logits.LAST);
            int best = argmax(logits);
            SamplingParams greedy = SamplingParams.greedy(1);
            assertThat(sampleOnce(pass, model, prompt, greedy)).as("greedy").isEqualTo(best);
            assertThat(sampleOnce(pass, model, prompt, greedy.withTemperature(1.5f).withTopK(1))).as("top-k 1").isEqualTo(best);
            assertThat(sampleOnce(pass, model, prompt, greedy.withTemperature(1.5f).withTopP(1e-6f))).as("tiny top-p").isEqualTo(best);
            float[] sorted = logits.clone();
            Arrays.sort(sorted);
            float fifthBest = sorted[sorted.length - 5];
            for (long seed = 0; seed < 20; seed++) {
                int token = sampleOnce(pass, model, prompt, greedy.withTemperature(1.0f).withTopK(5).withSeed(seed));
                assertThat(logits[token]).as("a top-5 token (seed " + seed + ")").isGreaterThanOrEqualTo(fifthBest);
            }
        }
    }

    /** An empty full-cache sequence of the backend behind {@code pass}. */
    private static Sequence fresh(ForwardPass pass, Model model) {
        return pass.newSequence(CONTEXT, KvCacheConfig.full(), TokenClasses.ordinary(model.config().vocabularySize()));
    }

    private static int sampleOnce(ForwardPass pass, Model model, int[] prompt, SamplingParams params) {
        Sequence cache = fresh(pass, model);
        int[] history = Arrays.copyOf(prompt, prompt.length + 1);
        return pass.forwardAndSample(cache, prompt, 0, prompt.length, new Sampler(params), history, prompt.length);
    }

    @Test
    void aSequenceWhoseSlotWasTakenIsEvaluatedAgainFromItsTokens() {
        try (Model model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
             Backend gpu = open(model, 1)) {
            ForwardPass pass = gpu.forwardPass();
            int[] prompt = prompt(model);
            Sequence first = fresh(pass, model);
            Sequence second = fresh(pass, model);
            pass.forward(first, prompt, 0, prompt.length - 1, ForwardPass.Logits.LAST);
            pass.forward(second, prompt, 1, prompt.length - 1, ForwardPass.Logits.LAST);
            float[] resumed = pass.forward(first, prompt, prompt.length - 1, 1, ForwardPass.Logits.LAST);
            float[] direct = pass.forward(fresh(pass, model), prompt, 0, prompt.length, ForwardPass.Logits.LAST);
            compare("resumed against direct", direct, resumed);
        }
    }

    @Test
    void freeDeviceMemoryDropsByThePlannedBytes() {
        try (Model small = Model.load(SharedData.require("models/tiny/stories260K.gguf"));
             Model model = Model.load(SharedData.require("models/synthetic/llama3-tiny-Q4_K_M.gguf"));
             Backend first = open(small, 1)) {
            // the first backend holds the context, so what follows is the second backend's allocations only
            long before = ((CudaBackend) first).memoryInfo()[0];
            CudaBackend second = (CudaBackend) open(model, 2);
            long after = second.memoryInfo()[0];
            long planned = second.plan().deviceBytes();
            second.close();
            assertThat(before - after).as("free memory drop against the plan of " + planned + " bytes")
                    .isBetween(planned - DeviceMemoryPlan.ALLOCATION_GRANULARITY, planned + 4 * DeviceMemoryPlan.ALLOCATION_GRANULARITY);
            assertThat(((CudaBackend) first).memoryInfo()[0]).as("freed on close").isEqualTo(before);
        }
    }
}
