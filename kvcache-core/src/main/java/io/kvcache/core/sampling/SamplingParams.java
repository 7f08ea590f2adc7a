package io.kvcache.core.sampling;

import java.util.List;

/**
 * How the next token is chosen and when generation stops. Filters apply in llama.cpp's order:
 * repetition penalty, top-k, top-p, min-p, then temperature; a temperature of 0 picks the most
 * likely token (greedy).
 *
 * @param temperature       0 for greedy; otherwise logits are divided by it before sampling
 * @param topK              keep the k most likely tokens (0: all)
 * @param topP              keep the smallest set whose probability reaches p (1: all)
 * @param minP              drop tokens below minP times the top probability (0: none)
 * @param repetitionPenalty divide positive (multiply negative) logits of recently seen tokens (1: off)
 * @param repetitionWindow  how many recent tokens the penalty looks at
 * @param seed              random seed for sampling
 * @param maxTokens         most tokens to generate
 * @param stop              strings that end generation (not included in the text)
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             int repetitionWindow, long seed, int maxTokens, List<String> stop) {

    public SamplingParams {
        check(temperature >= 0 && Float.isFinite(temperature), "temperature must be >= 0, got " + temperature);
        check(topK >= 0, "top-k must be >= 0, got " + topK);
        check(topP > 0 && topP <= 1, "top-p must be in (0, 1], got " + topP);
        check(minP >= 0 && minP < 1, "min-p must be in [0, 1), got " + minP);
        check(repetitionPenalty > 0 && Float.isFinite(repetitionPenalty),
                "repetition penalty must be > 0, got " + repetitionPenalty);
        check(repetitionWindow >= 0, "repetition window must be >= 0, got " + repetitionWindow);
        check(maxTokens >= 0, "max tokens must be >= 0, got " + maxTokens);
        stop = List.copyOf(stop);
        check(stop.stream().noneMatch(String::isEmpty), "stop strings must not be empty");
    }

    /** Greedy decoding of up to {@code maxTokens} tokens. */
    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0, maxTokens, List.of());
    }

    public SamplingParams withTemperature(float t) {
        return new SamplingParams(t, topK, topP, minP, repetitionPenalty, repetitionWindow, seed, maxTokens, stop);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repetitionWindow, s, maxTokens, stop);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, minP, repetitionPenalty, repetitionWindow, seed, maxTokens, stop);
    }

    public SamplingParams withTopP(float p) {
        return new SamplingParams(temperature, topK, p, minP, repetitionPenalty, repetitionWindow, seed, maxTokens, stop);
    }

    public SamplingParams withMinP(float p) {
        return new SamplingParams(temperature, topK, topP, p, repetitionPenalty, repetitionWindow, seed, maxTokens, stop);
    }

    public SamplingParams withRepetitionPenalty(float penalty) {
        return new SamplingParams(temperature, topK, topP, minP, penalty, repetitionWindow, seed, maxTokens, stop);
    }

    public SamplingParams withStop(List<String> strings) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repetitionWindow, seed, maxTokens, strings);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
