package io.kvcache.core.eval;

/**
 * Log-probabilities from a row of logits, in double: {@code (logit - max) - log(sum exp(logit - max))},
 * the max subtracted in float as the logits are, so every measure here scores a row alike.
 */
final class LogSoftmax {
    private LogSoftmax() {
    }

    /** Every token's log-probability. */
    static double[] of(float[] logits) {
        float max = max(logits, 0, logits.length);
        double log = Math.log(sumExp(logits, 0, logits.length, max));
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - max - log;
        }
        return out;
    }

    /** The log-probability of {@code target} in the row {@code logits[offset, offset+n)}. */
    static double of(float[] logits, int offset, int n, int target) {
        float max = max(logits, offset, n);
        return logits[offset + target] - max - Math.log(sumExp(logits, offset, n, max));
    }

    /** Index of the largest value; the lowest index wins a tie. */
    static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    private static float max(float[] logits, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        return max;
    }

    private static double sumExp(float[] logits, int offset, int n, float max) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return sum;
    }
}
