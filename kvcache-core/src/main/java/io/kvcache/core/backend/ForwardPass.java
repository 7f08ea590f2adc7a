package io.kvcache.core.backend;

import io.kvcache.core.kv.KvCache;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.Transformer;

/**
 * Evaluates tokens of one sequence and returns logits: what generation, perplexity and the chat
 * model need from a backend. {@link Transformer} is the CPU's.
 */
public interface ForwardPass {
    ModelConfig config();

    /**
     * Evaluates {@code tokens[from, from+count)} at the next positions of {@code cache} and returns
     * logits ({@code vocabulary} floats per returned row).
     *
     * @throws io.kvcache.core.ContextOverflowException when the cache cannot hold {@code count} more positions
     */
    float[] forward(KvCache cache, int[] tokens, int from, int count, Transformer.Logits logits);
}
