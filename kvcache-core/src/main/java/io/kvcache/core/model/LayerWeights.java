package io.kvcache.core.model;

import io.kvcache.core.tensor.WeightMatrix;

/**
 * The weights of one transformer block. Optional parts are {@code null}: the q/k/v biases
 * (Qwen 2 only), the per-head q/k norms (Qwen 3, Gemma 3), the norms of the attention and
 * feed-forward outputs (Gemma 2 and 3), and the key/value projections of a layer that attends to
 * another layer's cache, and Gemma 4's per-layer input weights (gate, projection and its norm) and
 * output scale (one value). A file's fused projections (Phi 3's attn_qkv, and its ffn_up holding the
 * gate rows then the up rows) are held here as views of their row ranges.
 */
public record LayerWeights(float[] attentionNorm,
                           WeightMatrix query, WeightMatrix key, WeightMatrix value, WeightMatrix attentionOutput,
                           float[] queryBias, float[] keyBias, float[] valueBias,
                           float[] queryNorm, float[] keyNorm, float[] postAttentionNorm,
                           float[] ffnNorm, WeightMatrix ffnGate, WeightMatrix ffnUp, WeightMatrix ffnDown,
                           float[] postFfnNorm,
                           WeightMatrix perLayerGate, WeightMatrix perLayerProjection, float[] perLayerPostNorm,
                           float[] outputScale) {
}
