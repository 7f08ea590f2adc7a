package io.kvcache.core.kv;

import java.util.Arrays;
import java.util.Objects;

/**
 * Per-channel factors s_c of one KV head that flatten the channel outliers of keys before low-bit
 * quantization: keys are stored as k_c / s_c and queries are used as q_c * s_c, so q·k is unchanged
 * while a few huge key channels no longer stretch the range of every quantization group they sit
 * in. The factors are fixed once, from the prefill's keys and queries.
 */
public final class KeyBalance {
    /** Bounds on a factor, so that neither keys nor queries are pushed towards fp16 overflow or underflow. */
    static final float MIN_FACTOR = 1e-4f;
    static final float MAX_FACTOR = 1e4f;

    private final float[] factors;

    private KeyBalance(float[] factors) {
        this.factors = factors;
    }

    /**
     * Factors from the prefill: s_c = sqrt(max|K_c| / max|Q_c|), which moves half of the key
     * channel's magnitude onto the query (SmoothQuant's migration strength 0.5), clamped to
     * [{@value #MIN_FACTOR}, {@value #MAX_FACTOR}]. A channel where either maximum is 0 or not finite
     * keeps factor 1. Rows are consecutive {@code width}-float rows; with grouped-query attention
     * the query rows are those of every query head that reads this KV head.
     */
    public static KeyBalance fromPrefill(float[] keys, int keyOffset, int keyRows,
                                         float[] queries, int queryOffset, int queryRows, int width) {
        requireWidth(width);
        float[] keyMax = channelMaxima(keys, keyOffset, keyRows, width);
        float[] queryMax = channelMaxima(queries, queryOffset, queryRows, width);
        float[] factors = new float[width];
        for (int c = 0; c < width; c++) {
            float k = keyMax[c];
            float q = queryMax[c];
            boolean usable = k > 0 && q > 0 && Float.isFinite(k) && Float.isFinite(q);
            factors[c] = usable ? Math.clamp((float) Math.sqrt((double) k / q), MIN_FACTOR, MAX_FACTOR) : 1f;
        }
        return new KeyBalance(factors);
    }

    /**
     * Factors given channel by channel (a cache restored from a snapshot).
     *
     * @throws IllegalArgumentException when a factor is outside [{@value #MIN_FACTOR}, {@value #MAX_FACTOR}]
     */
    public static KeyBalance of(float[] factors) {
        requireWidth(factors.length);
        for (int c = 0; c < factors.length; c++) {
            if (!(factors[c] >= MIN_FACTOR && factors[c] <= MAX_FACTOR)) {
                throw new IllegalArgumentException("key factor " + c + " is " + factors[c] + ", outside ["
                        + MIN_FACTOR + ", " + MAX_FACTOR + "]");
            }
        }
        return new KeyBalance(factors.clone());
    }

    /** Factor 1 for every channel: keys and queries pass unchanged. */
    public static KeyBalance identity(int width) {
        requireWidth(width);
        float[] factors = new float[width];
        Arrays.fill(factors, 1f);
        return new KeyBalance(factors);
    }

    /** max |x| per channel over the rows; NaN propagates through Math.max so that it is caught as not finite. */
    private static float[] channelMaxima(float[] x, int offset, int rows, int width) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must not be negative, got " + rows);
        }
        Objects.checkFromIndexSize(offset, Math.multiplyExact(rows, width), x.length);
        float[] max = new float[width];
        for (int r = 0; r < rows; r++) {
            int row = offset + r * width;
            for (int c = 0; c < width; c++) {
                max[c] = Math.max(max[c], Math.abs(x[row + c]));
            }
        }
        return max;
    }

    private static void requireWidth(int width) {
        if (width < 1) {
            throw new IllegalArgumentException("width must be at least 1, got " + width);
        }
    }

    public float factor(int channel) {
        return factors[channel];
    }

    /** x[off + c] /= s_c in place, for a key about to be quantized. */
    public void divideKey(float[] x, int off) {
        Objects.checkFromIndexSize(off, factors.length, x.length);
        for (int c = 0; c < factors.length; c++) {
            x[off + c] /= factors[c];
        }
    }

    /**
     * x[row + c] *= s_c in place for {@code rows} consecutive key rows from {@code off}: decoded
     * keys back in their own scale, which scores them exactly as the divided keys would score
     * against queries multiplied by s.
     */
    public void restoreKeys(float[] x, int off, int rows) {
        Objects.checkFromIndexSize(off, rows * factors.length, x.length);
        for (int r = 0; r < rows; r++) {
            int row = off + r * factors.length;
            for (int c = 0; c < factors.length; c++) {
                x[row + c] *= factors[c];
            }
        }
    }

    public int width() {
        return factors.length;
    }

    /** The factors' memory, for the cache's accounting. */
    public long bytesHeld() {
        return (long) Float.BYTES * factors.length;
    }
}
