package io.kvcache.core.backend;

import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;

import java.time.Duration;

/**
 * A throwaway forward pass that brings a backend up to speed before its first real request: the
 * JIT compiles the kernels, and the quantized matrices are copied into row groups at their first
 * multiply (seconds on a 1B model), both of which otherwise land on the first prompt. It runs a
 * prompt batch and a few decode steps on a sequence of its own, which nothing else sees.
 */
public final class WarmUp {
    /** Prompt tokens: enough for the batched kernels, including the tiled attention. */
    static final int PROMPT = 64;
    /** Decode steps after it: one-query attention and the single-input kernels. */
    static final int STEPS = 16;

    private WarmUp() {
    }

    /**
     * Evaluates a short made-up token stream with {@code pass} under {@code config} and returns how
     * long it took. The tokens are ordinary ids counted up from 1 (what they say does not matter,
     * only that every kernel runs).
     */
    public static Duration run(ForwardPass pass, KvCacheConfig config, TokenClasses classes) {
        long start = System.nanoTime();
        int vocabulary = pass.config().vocabularySize();
        int length = Math.min(PROMPT + STEPS, pass.config().contextLength());
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = 1 + i % (vocabulary - 1);
        }
        Sequence sequence = pass.newSequence(length, config, classes);
        int prompt = Math.min(PROMPT, length);
        pass.forward(sequence, tokens, 0, prompt, ForwardPass.Logits.LAST);
        for (int i = prompt; i < length; i++) {
            pass.forward(sequence, tokens, i, 1, ForwardPass.Logits.LAST);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
