package io.kvcache.core.sampling;

/**
 * Log-probabilities from a row of logits, in double: {@code (logit - max) - log(sum exp(logit - max))},
 * the max subtracted in float as the logits are, so every measure and report scores a row alike.
 */
public final class LogSoftmax {
    private LogSoftmax() {
    }

    /** Every token's log-probability. */
    public static double[] of(float[] logits) {
        Row row = row(logits, 0, logits.length);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = row.of(logits[i]);
        }
        return out;
    }

    /** The log-probability of {@code target} in the row {@code logits[offset, offset+n)}. */
    public static double of(float[] logits, int offset, int n, int target) {
        return row(logits, offset, n).of(logits[offset + target]);
    }

    /** The normalizer of the row {@code logits[offset, offset+n)}, to score some of its tokens without a copy. */
    public static Row row(float[] logits, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return new Row(max, Math.log(sum));
    }

    /** A row's largest logit and the log of its sum of exp(logit - max). */
    public record Row(float max, double logSum) {
        /** The log-probability of a token of this row with logit {@code logit}. */
        public double of(float logit) {
            return logit - max - logSum;
        }
    }
}
