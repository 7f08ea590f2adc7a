package io.kvcache.core.backend;

import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.sampling.Sampler;

/**
 * Evaluates tokens of one sequence and returns logits: what generation, perplexity and the chat
 * model need from a backend. The CPU's is {@code io.kvcache.core.cpu.CpuForwardPass}.
 */
public interface ForwardPass {
    ModelConfig config();

    /** Which rows of logits a forward call returns. */
    enum Logits {
        /** Only the last token's: what generation needs. */
        LAST,
        /** Every token's, row after row: what perplexity needs. */
        ALL
    }

    /**
     * An empty sequence of up to {@code capacity} positions whose cache runs {@code config}, held
     * where this backend keeps keys and values; {@code classes} tells special and punctuation
     * tokens apart for the policies that keep them.
     *
     * @throws IllegalArgumentException when the capacity exceeds the model's context or this
     *                                  backend cannot hold such a cache
     */
    Sequence newSequence(int capacity, KvCacheConfig config, TokenClasses classes);

    /**
     * Evaluates {@code tokens[from, from+count)} at the next positions of {@code sequence} (one
     * this backend made) and returns logits ({@code vocabulary} floats per returned row).
     *
     * @throws io.kvcache.core.ContextOverflowException when the sequence cannot hold {@code count} more positions
     */
    float[] forward(Sequence sequence, int[] tokens, int from, int count, Logits logits);

    /**
     * Evaluates the tokens as {@link #forward} does and picks the next token from the last row of
     * logits as {@code sampler} would ({@code history[0, historyLength)} being the sequence the
     * repetition penalty looks at). A backend may pick it where the logits are: the CUDA backend
     * samples on the GPU, so only the token id comes back.
     */
    default int forwardAndSample(Sequence sequence, int[] tokens, int from, int count, Sampler sampler, int[] history,
                                 int historyLength) {
        float[] logits = forward(sequence, tokens, from, count, Logits.LAST);
        return sampler.sample(logits, 0, config().vocabularySize(), history, historyLength);
    }
}
