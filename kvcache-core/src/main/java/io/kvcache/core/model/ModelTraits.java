package io.kvcache.core.model;

import java.util.ArrayList;
import java.util.List;

/**
 * What a model family computes beyond the plain pre-norm Llama block, as llama.cpp computes it for
 * that family. The plain block is the identity of every factor here (scales 1, no caps, SiLU,
 * every layer global and rotated).
 *
 * @param embeddingScale      factor on the token embedding (Gemma sqrt(dim), Granite's embedding multiplier)
 * @param queryScale          factor on each query after RoPE and before attention (Gemma, Phi 3: 1/sqrt(head width)),
 *                            applied before the query is rounded to the cache's precision
 * @param attentionScale      factor on each query-key dot product (1/sqrt(head width) in most families;
 *                            1 where {@code queryScale} already scaled; Granite's attention multiplier)
 * @param attentionSoftCap    scores become cap * tanh(score / cap) when positive (Gemma 2); 0 for none
 * @param residualScale       factor on the attention and feed-forward outputs before they join the
 *                            residual stream (Granite); 1 for none
 * @param logitScale          factor on the logits (Granite: 1 / its logit scale); 1 for none
 * @param finalSoftCap        logits become cap * tanh(logit / cap) when positive (Gemma 2); 0 for none
 * @param activation          the feed-forward's gated activation
 * @param ropeAttentionFactor factor on RoPE's cosines and sines (LongRoPE's attention factor, YaRN's
 *                            as {@link YarnRope#attentionFactor} gives it); 1 for none
 * @param ropeOriginalContext with long RoPE factors (Phi 3): sequences opened for more positions than
 *                            this rotate with the long factors, others with the short ones; 0 otherwise
 * @param yarn                YaRN's blend of interpolated and unscaled RoPE angles; null for none
 * @param queryTemperature    factor on the queries by position after RoPE (Mistral 3); null for none
 * @param valueNorm           whether each value head is RMS-normalized (without a gain) before it is cached (Gemma 4)
 * @param perLayerInput       width of the per-layer inputs each layer's output is gated with (Gemma 4's
 *                            per-layer embeddings); 0 for none
 * @param layers              per layer, its window, head widths and rotation
 */
public record ModelTraits(float embeddingScale, float queryScale, float attentionScale, float attentionSoftCap,
                          float residualScale, float logitScale, float finalSoftCap, Activation activation,
                          float ropeAttentionFactor, int ropeOriginalContext, YarnRope yarn,
                          QueryTemperature queryTemperature, boolean valueNorm, int perLayerInput,
                          List<LayerAttention> layers) {

    public ModelTraits {
        layers = List.copyOf(layers);
    }

    /** The plain block: every layer global, of the same head widths, and rotated with {@code ropeBase}. */
    public static ModelTraits plain(int layerCount, int headDim, int valueDim, int ropeDims, float ropeBase) {
        List<LayerAttention> layers = new ArrayList<>();
        for (int i = 0; i < layerCount; i++) {
            layers.add(LayerAttention.global(ropeBase, headDim, valueDim, ropeDims));
        }
        return new ModelTraits(1f, 1f, defaultAttentionScale(headDim), 0f, 1f, 1f, 0f, Activation.SILU, 1f, 0, null, null,
                false, 0, layers);
    }

    /** 1/sqrt(head width), the usual scale of attention scores. */
    public static float defaultAttentionScale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }

    public LayerAttention layer(int layer) {
        return layers.get(layer);
    }

    /** Whether some layer attends through a sliding window. */
    public boolean hasSlidingLayers() {
        return layers.stream().anyMatch(LayerAttention::sliding);
    }

    /** Whether this is the plain Llama block (what every backend computes). */
    public boolean plainBlock(int headDim) {
        return embeddingScale == 1f && queryScale == 1f && attentionScale == defaultAttentionScale(headDim)
                && attentionSoftCap == 0f && residualScale == 1f && logitScale == 1f && finalSoftCap == 0f
                && activation == Activation.SILU && ropeAttentionFactor == 1f && ropeOriginalContext == 0
                && yarn == null && queryTemperature == null && !valueNorm && perLayerInput == 0
                && layers.stream().allMatch(l -> !l.sliding() && l.rotates() && l.ropeScale() == 1f
                        && l.ropeBase() == layers.getFirst().ropeBase() && l.headDim() == headDim && l.ropeFactors()
                        && l.valueDim() == layers.getFirst().valueDim() && l.ropeDims() == layers.getFirst().ropeDims());
    }
}
