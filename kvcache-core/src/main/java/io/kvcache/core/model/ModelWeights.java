package io.kvcache.core.model;

import io.kvcache.core.tensor.WeightMatrix;

import java.util.List;

/**
 * All weights of a model, read in place from the mapped file.
 *
 * @param tokenEmbedding  [vocabulary x dim]
 * @param layers          one entry per transformer block
 * @param outputNorm      final RMSNorm gain
 * @param output          [vocabulary x dim]; the embedding itself when the model ties them
 * @param ropeFactors     per rotated pair, the divisor of its frequency (Llama 3.1 long-context RoPE, or
 *                        LongRoPE's short factors), or null
 * @param longRopeFactors LongRoPE's factors for sequences longer than the original context (Phi 3), or null
 * @param perLayerInputs  Gemma 4's per-layer inputs, or null
 */
public record ModelWeights(WeightMatrix tokenEmbedding, List<LayerWeights> layers, float[] outputNorm,
                           WeightMatrix output, float[] ropeFactors, float[] longRopeFactors, PerLayerInputs perLayerInputs) {

    /**
     * Gemma 4's per-layer inputs: each token's row of {@code embedding} ([vocabulary x layers * width])
     * plus the normalized {@code projection} ([layers * width x dim]) of its embedded input, one
     * {@code width}-wide slice per layer.
     */
    public record PerLayerInputs(WeightMatrix embedding, WeightMatrix projection, float[] projectionNorm) {
    }
}
