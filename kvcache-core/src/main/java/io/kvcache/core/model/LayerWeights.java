package io.kvcache.core.model;

import io.kvcache.core.tensor.WeightMatrix;

/**
 * The weights of one transformer block. Optional parts are {@code null}: the q/k/v biases
 * (Qwen 2 only), the per-head q/k norms (Qwen 3 only), and the key/value projections of a layer
 * that attends to another layer's cache.
 */
public record LayerWeights(float[] attentionNorm,
                           WeightMatrix query, WeightMatrix key, WeightMatrix value, WeightMatrix attentionOutput,
                           float[] queryBias, float[] keyBias, float[] valueBias,
                           float[] queryNorm, float[] keyNorm,
                           float[] ffnNorm, WeightMatrix ffnGate, WeightMatrix ffnUp, WeightMatrix ffnDown) {
}
