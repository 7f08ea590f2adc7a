package io.kvcache.core.model;

import java.util.List;
import java.util.stream.IntStream;

/**
 * The shape and hyper-parameters of a transformer.
 *
 * @param name           human-readable model name
 * @param architecture   model family
 * @param dim            embedding width
 * @param layers         transformer blocks
 * @param heads          query heads
 * @param kvHeads        key/value heads (fewer than {@code heads} with grouped-query attention)
 * @param headDim        width of one query/key head (the widest, where layers differ: see {@link LayerAttention})
 * @param valueDim       width of one value head (the widest, where layers differ)
 * @param ffnDim         hidden width of the feed-forward block (the widest, where layers differ: Gemma 4)
 * @param vocabularySize rows of the embedding matrix
 * @param contextLength  positions the model was trained for; the longest sequence kvcache accepts
 * @param rmsEpsilon     RMSNorm epsilon
 * @param ropeBase       RoPE frequency base
 * @param ropeDims       leading dimensions of each head that RoPE rotates
 * @param ropeStyle      which pairs RoPE rotates
 * @param kvLayers       for each layer, the layer whose keys and values it attends to: itself in a
 *                       standard model; another layer in cross-layer-sharing checkpoints (LCKV's
 *                       {@code layer_types}), where only the layers named here compute and cache K/V
 * @param traits         what the family computes beyond the plain Llama block, per layer too
 */
public record ModelConfig(String name, Architecture architecture, int dim, int layers, int heads, int kvHeads,
                          int headDim, int valueDim, int ffnDim, int vocabularySize, int contextLength,
                          float rmsEpsilon, float ropeBase, int ropeDims, RopeStyle ropeStyle,
                          List<Integer> kvLayers, ModelTraits traits) {

    public ModelConfig {
        kvLayers = List.copyOf(kvLayers);
        if (kvLayers.size() != layers) {
            throw new IllegalArgumentException(kvLayers.size() + " KV layers for " + layers + " layers");
        }
        if (traits.layers().size() != layers) {
            throw new IllegalArgumentException(traits.layers().size() + " layer traits for " + layers + " layers");
        }
    }

    /** The plain Llama block, with the cross-layer sharing {@code kvLayers} declares. */
    public ModelConfig(String name, Architecture architecture, int dim, int layers, int heads, int kvHeads,
                       int headDim, int valueDim, int ffnDim, int vocabularySize, int contextLength,
                       float rmsEpsilon, float ropeBase, int ropeDims, RopeStyle ropeStyle, List<Integer> kvLayers) {
        this(name, architecture, dim, layers, heads, kvHeads, headDim, valueDim, ffnDim, vocabularySize, contextLength,
                rmsEpsilon, ropeBase, ropeDims, ropeStyle, kvLayers, ModelTraits.plain(layers, headDim, valueDim, ropeDims, ropeBase));
    }

    /** A standard model: every layer attends to its own keys and values. */
    public ModelConfig(String name, Architecture architecture, int dim, int layers, int heads, int kvHeads,
                       int headDim, int valueDim, int ffnDim, int vocabularySize, int contextLength,
                       float rmsEpsilon, float ropeBase, int ropeDims, RopeStyle ropeStyle) {
        this(name, architecture, dim, layers, heads, kvHeads, headDim, valueDim, ffnDim, vocabularySize, contextLength,
                rmsEpsilon, ropeBase, ropeDims, ropeStyle, IntStream.range(0, layers).boxed().toList());
    }

    /** How {@code layer} attends: its window and rotation. */
    public LayerAttention attention(int layer) {
        return traits.layer(layer);
    }

    /** The layer whose keys and values {@code layer} attends to. */
    public int kvLayer(int layer) {
        return kvLayers.get(layer);
    }

    /** Whether some layer attends to the keys and values of a later layer, so tokens must be evaluated one at a time. */
    public boolean attendsToLaterLayers() {
        for (int layer = 0; layer < layers; layer++) {
            if (kvLayers.get(layer) > layer) {
                return true;
            }
        }
        return false;
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }
}
