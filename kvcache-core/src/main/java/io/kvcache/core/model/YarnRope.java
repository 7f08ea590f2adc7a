package io.kvcache.core.model;

/**
 * YaRN's blend of RoPE angles (rope.scaling.type "yarn"): pairs that turn fewer than
 * {@code betaSlow} times over the original context are interpolated (angle times the layer's
 * {@link LayerAttention#ropeScale()}), pairs that turn more than {@code betaFast} times keep their
 * angle, and the pairs between ramp linearly from one to the other; cosines and sines are then
 * multiplied by 1 + 0.1 ln(1 / scale) on top of the model's RoPE attention factor. As llama.cpp
 * computes it, with its defaults of 32 and 1 where a family does not read the betas from the file.
 *
 * @param betaFast        turns over the original context above which a pair keeps its angle
 * @param betaSlow        turns below which a pair is fully interpolated
 * @param originalContext the context the model was trained for before scaling
 */
public record YarnRope(float betaFast, float betaSlow, int originalContext) {
    /** llama.cpp's betas for families that do not read them from the file. */
    public static final float DEFAULT_BETA_FAST = 32f;
    public static final float DEFAULT_BETA_SLOW = 1f;

    /**
     * The first and last pair indices of the ramp for {@code ropeDims} rotated dimensions and RoPE
     * base {@code base}: the pair whose wavelength fits {@code beta} times in the original context
     * is ropeDims * ln(originalContext / (2 pi beta)) / (2 ln base), rounded outwards and clamped.
     */
    public float[] rampDims(int ropeDims, float base) {
        float start = (float) Math.floor(pairFor(ropeDims, betaFast, base));
        float end = (float) Math.ceil(pairFor(ropeDims, betaSlow, base));
        return new float[] {Math.max(0f, start), Math.min(ropeDims - 1, end)};
    }

    private float pairFor(int ropeDims, float beta, float base) {
        float turns = originalContext / (beta * 2 * (float) Math.PI);
        return ropeDims * log(turns) / (2 * log(base));
    }

    /**
     * The share of the unscaled angle in pair {@code pair}'s blend: 1 below the ramp, 0 above it.
     * ggml divides by at least 0.001 so an empty ramp is a step.
     */
    public static float extrapolation(float[] rampDims, int pair) {
        float y = (pair - rampDims[0]) / Math.max(0.001f, rampDims[1] - rampDims[0]);
        return 1 - Math.min(1, Math.max(0, y));
    }

    /** 1 + 0.1 ln(1 / scale): the magnitude YaRN gives cosines and sines of an interpolated rotation. */
    public static float magnitude(float scale) {
        return Math.fma(0.1f, log(1f / scale), 1f);
    }

    /**
     * The factor llama.cpp gives RoPE's cosines and sines besides {@link #magnitude}: with a log
     * multiplier m (rope.scaling.yarn_log_multiplier), mscale(factor, 1) / mscale(factor, m), else
     * mscale(factor, 1), where mscale(f, x) = 1 + 0.1 x ln f; then divided by the magnitude the
     * rotation multiplies in again, and times the file's RoPE attention factor.
     */
    public static float attentionFactor(float scale, float logMultiplier, float ropeAttentionFactor) {
        float factor = 1f / scale;
        float attention = logMultiplier != 0f
                ? mscale(factor, 1f) / mscale(factor, logMultiplier)
                : mscale(factor, 1f);
        attention *= 1f / Math.fma(0.1f, log(factor), 1f);
        return attention * ropeAttentionFactor;
    }

    private static float mscale(float factor, float multiplier) {
        return factor <= 1f ? 1f : Math.fma(0.1f * multiplier, log(factor), 1f);
    }

    /** The float natural logarithm, correctly rounded (glibc's logf agrees on these arguments). */
    private static float log(float x) {
        return (float) Math.log(x);
    }
}
