package io.kvcache.core.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Chooses the next token from logits according to {@link SamplingParams}. Not thread-safe: one per sequence. */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * The uniform number in [0, 1) that {@link #sample} draws when the temperature is above 0, for a
     * backend that samples elsewhere with this sampler's random stream.
     */
    public double nextUniform() {
        return random.nextDouble();
    }

    /**
     * Picks a token. {@code logits} (one row, from {@code offset}) is modified by the penalty;
     * {@code history} holds the sequence so far, of which the last {@code historyLength} count.
     */
    public int sample(float[] logits, int offset, int vocabulary, int[] history, int historyLength) {
        applyRepetitionPenalty(logits, offset, vocabulary, history, historyLength);
        if (params.temperature() == 0f) {
            return argmax(logits, offset, vocabulary);
        }
        Integer[] order = new Integer[vocabulary];
        for (int i = 0; i < vocabulary; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[offset + b], logits[offset + a]));
        int kept = params.topK() > 0 ? Math.min(params.topK(), vocabulary) : vocabulary;
        double[] p = softmax(logits, offset, order, kept, 1f);
        if (params.topP() < 1f) {
            double cumulative = 0;
            int n = 0;
            while (n < kept) {
                cumulative += p[n++];
                if (cumulative >= params.topP()) {
                    break;
                }
            }
            kept = n;
        }
        if (params.minP() > 0f) {
            double threshold = p[0] * params.minP();
            int n = 1;
            while (n < kept && p[n] >= threshold) {
                n++;
            }
            kept = n;
        }
        double[] q = softmax(logits, offset, order, kept, params.temperature());
        double u = nextUniform();
        for (int i = 0; i < kept; i++) {
            u -= q[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[kept - 1];
    }

    private void applyRepetitionPenalty(float[] logits, int offset, int vocabulary, int[] history, int historyLength) {
        float penalty = params.repetitionPenalty();
        if (penalty == 1f || params.repetitionWindow() == 0) {
            return;
        }
        int from = Math.max(0, historyLength - params.repetitionWindow());
        boolean[] seen = new boolean[vocabulary];
        for (int i = from; i < historyLength; i++) {
            int t = history[i];
            if (!seen[t]) {
                seen[t] = true;
                float l = logits[offset + t];
                logits[offset + t] = l > 0 ? l / penalty : l * penalty;
            }
        }
    }

    /** Index of the largest logit; the lowest index wins a tie. */
    public static int argmax(float[] logits, int offset, int vocabulary) {
        int best = 0;
        for (int i = 1; i < vocabulary; i++) {
            if (logits[offset + i] > logits[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    /** Probabilities of the first {@code n} tokens of {@code order}, renormalized among them. */
    private static double[] softmax(float[] logits, int offset, Integer[] order, int n, float temperature) {
        double[] p = new double[n];
        double max = logits[offset + order[0]] / temperature;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(logits[offset + order[i]] / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
