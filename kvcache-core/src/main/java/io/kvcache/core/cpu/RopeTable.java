package io.kvcache.core.cpu;

import io.kvcache.core.model.RopeStyle;
import io.kvcache.core.model.YarnRope;

import java.util.Arrays;

/**
 * Cosines and sines of the RoPE angles per position, grown on demand. Angles follow llama.cpp:
 * theta_i = p * base^(-2i/d), built by repeated float multiplication, divided by the optional
 * per-pair frequency factors and multiplied by the scale of linear position interpolation (with
 * YaRN, blended per pair with the unscaled angle, see {@link YarnRope}); their cosines and sines are
 * glibc's (see {@link FloatSinCos}), times the attention factor of LongRoPE or YaRN.
 */
final class RopeTable {
    private final int pairs;
    private final float thetaScale;
    private final float[] factors;
    private final float scale;
    private final float attentionFactor;
    /** Per pair, the share of the unscaled angle in YaRN's blend; null without YaRN. */
    private final float[] extrapolation;
    // Replaced whole (never written after publication) so readers on other threads see complete tables.
    private volatile float[] cos = new float[0];
    private volatile float[] sin = new float[0];
    private int positions;

    RopeTable(int ropeDims, float base, float scale, float[] factors, float attentionFactor, YarnRope yarn) {
        this.pairs = ropeDims / 2;
        this.thetaScale = (float) Math.pow(base, -2.0f / ropeDims);
        this.factors = factors;
        this.scale = scale;
        if (yarn == null) {
            this.extrapolation = null;
            this.attentionFactor = attentionFactor;
        } else {
            float[] ramp = yarn.rampDims(ropeDims, base);
            this.extrapolation = new float[pairs];
            for (int i = 0; i < pairs; i++) {
                extrapolation[i] = YarnRope.extrapolation(ramp, i);
            }
            this.attentionFactor = attentionFactor * YarnRope.magnitude(scale);
        }
    }

    /** Makes positions [0, count) available; call before reading them from several threads. */
    synchronized void ensure(int count) {
        if (count <= positions) {
            return;
        }
        int grown = Math.max(count, positions * 2);
        float[] newCos = Arrays.copyOf(cos, grown * pairs);
        float[] newSin = Arrays.copyOf(sin, grown * pairs);
        for (int p = positions; p < grown; p++) {
            float theta = p;
            for (int i = 0; i < pairs; i++) {
                float unscaled = factors == null ? theta : theta / factors[i];
                float angle = scale * unscaled;
                if (extrapolation != null) {
                    // ggml's interpolated * (1 - mix) + unscaled * mix, its first product fused (see rotate)
                    float mix = extrapolation[i];
                    angle = Math.fma(angle, 1 - mix, unscaled * mix);
                }
                newCos[p * pairs + i] = FloatSinCos.cos(angle) * attentionFactor;
                newSin[p * pairs + i] = FloatSinCos.sin(angle) * attentionFactor;
                theta *= thetaScale;
            }
        }
        sin = newSin;
        cos = newCos;
        positions = grown;
    }

    /**
     * Rotates the first ropeDims elements of the head at x[off..] for position {@code p}. ggml is
     * built as GNU C/C++, where GCC fuses a product with the addition that uses it
     * (-ffp-contract=fast): its x0*cos - x1*sin becomes fma(x0, cos, -(x1*sin)), and
     * x0*sin + x1*cos becomes fma(x0, sin, x1*cos). The rotated keys and queries are rounded to
     * fp16 next, so the single rounding of the fused form is reproduced.
     */
    void rotate(float[] x, int off, int p, RopeStyle style) {
        int t = p * pairs;
        float[] cos = this.cos;
        float[] sin = this.sin;
        for (int i = 0; i < pairs; i++) {
            int a = style == RopeStyle.INTERLEAVED ? off + 2 * i : off + i;
            int b = style == RopeStyle.INTERLEAVED ? a + 1 : a + pairs;
            float c = cos[t + i];
            float s = sin[t + i];
            float x0 = x[a];
            float x1 = x[b];
            x[a] = Math.fma(x0, c, -(x1 * s));
            x[b] = Math.fma(x0, s, x1 * c);
        }
    }
}
