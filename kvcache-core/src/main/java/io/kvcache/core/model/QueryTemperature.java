package io.kvcache.core.model;

/**
 * Attention temperature by position (Mistral 3's "llama 4 scaling"): queries at position p are
 * multiplied by ln(floor(p / step) + 1) * scale + 1 after RoPE, so attention sharpens as a sequence
 * grows past each multiple of {@code step} (the original context). Positions before the first step
 * get exactly 1.
 *
 * @param scale attention.temperature_scale
 * @param step  the original context length
 */
public record QueryTemperature(float scale, int step) {

    public QueryTemperature {
        if (!(Float.isFinite(scale) && scale != 0f) || step <= 0) {
            throw new IllegalArgumentException("query temperature scale " + scale + " over steps of " + step);
        }
    }

    /**
     * The factor at {@code position}: the floor of a float quotient, then ln, product and sum in
     * double, one fused multiply-add, rounded to float, as llama.cpp fills its input.
     */
    public float factor(int position) {
        double steps = Math.floor((float) position / (float) step);
        return (float) Math.fma(Math.log(steps + 1.0), scale, 1.0);
    }
}
