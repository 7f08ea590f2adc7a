package io.kvcache.core.kv;

/**
 * Per-channel factors s for the keys of one KV head (MiKV's outlier-aware balancing): keys are
 * stored divided by s and restored (multiplied) when read, which is the same as scoring the
 * stored keys against queries multiplied by s, so scores are unchanged while the few channels
 * with outlier magnitudes no longer set the quantization step of a whole group. Factors are fixed
 * from the prompt: s_c = sqrt(max|K_c| / max|Q_c|), migrating half of the outlier range to the
 * query side as SmoothQuant does.
 */
public final class KeyBalance {
    private static final float MIN_FACTOR = 1e-4f;
    private static final float MAX_FACTOR = 1e4f;

    private final float[] factors;

    private KeyBalance(float[] factors) {
        this.factors = factors;
    }

    public static KeyBalance identity(int width) {
        float[] ones = new float[width];
        java.util.Arrays.fill(ones, 1f);
        return new KeyBalance(ones);
    }

    /** Factors from {@code keyRows} key rows and {@code queryRows} query rows of {@code width} floats each. */
    public static KeyBalance fromPrefill(float[] keys, int keyOffset, int keyRows, float[] queries, int queryOffset,
                                         int queryRows, int width) {
        float[] factors = new float[width];
        for (int c = 0; c < width; c++) {
            float k = 0;
            for (int r = 0; r < keyRows; r++) {
                k = Math.max(k, Math.abs(keys[keyOffset + r * width + c]));
            }
            float q = 0;
            for (int r = 0; r < queryRows; r++) {
                q = Math.max(q, Math.abs(queries[queryOffset + r * width + c]));
            }
            float s = (float) Math.sqrt(k / q);
            factors[c] = k > 0 && q > 0 && Float.isFinite(s) ? Math.clamp(s, MIN_FACTOR, MAX_FACTOR) : 1f;
        }
        return new KeyBalance(factors);
    }

    public int width() {
        return factors.length;
    }

    public float factor(int channel) {
        return factors[channel];
    }

    /** k_c / s_c in place, for one key row at {@code off}. */
    public void divideKey(float[] x, int off) {
        for (int c = 0; c < factors.length; c++) {
            x[off + c] /= factors[c];
        }
    }

    /** k_c * s_c in place, for {@code rows} consecutive key rows from {@code off}. */
    public void restoreKeys(float[] x, int off, int rows) {
        for (int r = 0; r < rows; r++) {
            int row = off + r * factors.length;
            for (int c = 0; c < factors.length; c++) {
                x[row + c] *= factors[c];
            }
        }
    }

    /** The factors themselves: one float per channel. */
    public long bytesHeld() {
        return (long) factors.length * Float.BYTES;
    }
}
