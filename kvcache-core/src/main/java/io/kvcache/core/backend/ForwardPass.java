package io.kvcache.core.backend;

import io.kvcache.core.kv.KvCache;
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
     * Evaluates {@code tokens[from, from+count)} at the next positions of {@code cache} and returns
     * logits ({@code vocabulary} floats per returned row).
     *
     * @throws io.kvcache.core.ContextOverflowException when the cache cannot hold {@code count} more positions
     */
    float[] forward(KvCache cache, int[] tokens, int from, int count, Logits logits);

    /**
     * Evaluates the tokens as {@link #forward} does and picks the next token from the last row of
     * logits as {@code sampler} would ({@code history[0, historyLength)} being the sequence the
     * repetition penalty looks at). A backend may pick it where the logits are: the CUDA backend
     * samples on the GPU, so only the token id comes back.
     */
    default int forwardAndSample(KvCache cache, int[] tokens, int from, int count, Sampler sampler, int[] history,
                                 int historyLength) {
        float[] logits = forward(cache, tokens, from, count, Logits.LAST);
        return sampler.sample(logits, 0, config().vocabularySize(), history, historyLength);
    }
}
