package io.kvcache.core.model;

/**
 * The shape and hyper-parameters of a transformer.
 *
 * @param name           human-readable model name
 * @param architecture   model family
 * @param dim            embedding width
 * @param layers         transformer blocks
 * @param heads          query heads
 * @param kvHeads        key/value heads (fewer than {@code heads} with grouped-query attention)
 * @param headDim        width of one query/key head
 * @param valueDim       width of one value head
 * @param ffnDim         hidden width of the feed-forward block
 * @param vocabularySize rows of the embedding matrix
 * @param contextLength  positions the model was trained for; the longest sequence kvcache accepts
 * @param rmsEpsilon     RMSNorm epsilon
 * @param ropeBase       RoPE frequency base
 * @param ropeDims       leading dimensions of each head that RoPE rotates
 * @param ropeStyle      which pairs RoPE rotates
 */
public record ModelConfig(String name, Architecture architecture, int dim, int layers, int heads, int kvHeads,
                          int headDim, int valueDim, int ffnDim, int vocabularySize, int contextLength,
                          float rmsEpsilon, float ropeBase, int ropeDims, RopeStyle ropeStyle) {

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }
}
