package io.kvcache.core.model;

/**
 * How one layer attends: how far back it sees, how wide its heads are and how it rotates queries and keys.
 *
 * @param window      the positions a query sees, itself included (a sliding-window layer: a query at
 *                    p sees p - window + 1 to p), or 0 for every earlier position
 * @param rotates     whether RoPE applies (SmolLM3 leaves every fourth layer unrotated: NoPE)
 * @param ropeBase    RoPE frequency base of this layer (Gemma 3's sliding layers use 10000, its global
 *                    layers the model's base)
 * @param ropeScale   factor on every RoPE angle (linear position interpolation: 1 / scaling factor)
 * @param headDim     width of this layer's query and key heads (Gemma 4's sliding layers have
 *                    narrower heads than its global ones; every other family one width)
 * @param valueDim    width of this layer's value heads
 * @param ropeDims    leading dimensions of each head that RoPE rotates
 * @param ropeFactors whether the model's RoPE frequency factors apply to this layer (Gemma 4: its
 *                    global layers only; every layer elsewhere)
 */
public record LayerAttention(int window, boolean rotates, float ropeBase, float ropeScale, int headDim, int valueDim,
                             int ropeDims, boolean ropeFactors) {

    /** A layer seeing every earlier position, rotated with the model's base and factors. */
    public static LayerAttention global(float ropeBase, int headDim, int valueDim, int ropeDims) {
        return new LayerAttention(0, true, ropeBase, 1f, headDim, valueDim, ropeDims, true);
    }

    public boolean sliding() {
        return window > 0;
    }

    /** This layer with the window {@code window}, RoPE base {@code base} and scale {@code scale}. */
    public LayerAttention sliding(int window, float base, float scale) {
        return new LayerAttention(window, rotates, base, scale, headDim, valueDim, ropeDims, ropeFactors);
    }

    /** This layer without RoPE. */
    public LayerAttention unrotated() {
        return new LayerAttention(window, false, ropeBase, ropeScale, headDim, valueDim, ropeDims, ropeFactors);
    }

    /** The earliest position a query at {@code position} sees. */
    public int firstVisible(int position) {
        return sliding() ? Math.max(0, position - window + 1) : 0;
    }
}
