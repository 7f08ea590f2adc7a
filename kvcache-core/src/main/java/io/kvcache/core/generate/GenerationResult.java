package io.kvcache.core.generate;

import java.util.List;

/**
 * What a generation produced.
 *
 * @param promptTokens   the prompt's token ids
 * @param tokens         generated token ids (the end-of-generation token included when one ended it)
 * @param text           generated text, stop string excluded
 * @param steps          one entry per generated token
 * @param finishReason   why it ended
 * @param prefillNanos   time spent evaluating the prompt
 * @param decodeNanos    time spent generating after the first token
 */
public record GenerationResult(int[] promptTokens, int[] tokens, String text, List<GenerationStep> steps,
                               FinishReason finishReason, long prefillNanos, long decodeNanos) {

    /** Prompt tokens evaluated per second. */
    public double prefillTokensPerSecond() {
        return promptTokens.length * 1e9 / Math.max(1, prefillNanos);
    }

    /** Tokens generated per second after the first (each costs one decode step). */
    public double decodeTokensPerSecond() {
        return Math.max(0, tokens.length - 1) * 1e9 / Math.max(1, decodeNanos);
    }
}
