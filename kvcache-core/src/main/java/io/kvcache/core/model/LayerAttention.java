package io.kvcache.core.model;

/**
 * How one layer attends: how far back it sees and how it rotates queries and keys.
 *
 * @param window    the positions a query sees, itself included (a sliding-window layer: a query at
 *                  p sees p - window + 1 to p), or 0 for every earlier position
 * @param rotates   whether RoPE applies (SmolLM3 leaves every fourth layer unrotated: NoPE)
 * @param ropeBase  RoPE frequency base of this layer (Gemma 3's sliding layers use 10000, its global
 *                  layers the model's base)
 * @param ropeScale factor on every RoPE angle (linear position interpolation: 1 / scaling factor)
 */
public record LayerAttention(int window, boolean rotates, float ropeBase, float ropeScale) {

    /** A layer seeing every earlier position, rotated with the model's base. */
    public static LayerAttention global(float ropeBase) {
        return new LayerAttention(0, true, ropeBase, 1f);
    }

    public boolean sliding() {
        return window > 0;
    }

    /** The earliest position a query at {@code position} sees. */
    public int firstVisible(int position) {
        return sliding() ? Math.max(0, position - window + 1) : 0;
    }
}
