package io.kvcache.core.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Chooses the next token from logits according to {@link SamplingParams}. Not thread-safe: one per sequence. */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    /** Buffers reused from token to token, sized to the vocabulary at the first use. */
    private boolean[] seen = new boolean[0];
    private long[] keys = new long[0];
    private int[] order = new int[0];
    private double[] probabilities = new double[0];
    private double[] tempered = new double[0];

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
        int[] order = descending(logits, offset, vocabulary);
        int kept = params.topK() > 0 ? Math.min(params.topK(), vocabulary) : vocabulary;
        double[] p = softmax(logits, offset, order, kept, 1f, probabilities);
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
        double[] q = softmax(logits, offset, order, kept, params.temperature(), tempered);
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
        if (seen.length < vocabulary) {
            seen = new boolean[vocabulary];
        }
        for (int i = from; i < historyLength; i++) {
            int t = history[i];
            if (!seen[t]) {
                seen[t] = true;
                float l = logits[offset + t];
                logits[offset + t] = l > 0 ? l / penalty : l * penalty;
            }
        }
        for (int i = from; i < historyLength; i++) {
            seen[history[i]] = false;
        }
    }

    /**
     * The token ids by descending logit, ties in ascending id (the order of a stable sort by
     * logit): each id packed under its logit's sort key into one long, so that a primitive sort
     * orders them without boxing. The key orders floats as {@link Float#compare} does (-0 below
     * +0, NaN above everything), inverted for the descending order.
     */
    private int[] descending(float[] logits, int offset, int vocabulary) {
        if (keys.length < vocabulary) {
            keys = new long[vocabulary];
            order = new int[vocabulary];
            probabilities = new double[vocabulary];
            tempered = new double[vocabulary];
        }
        for (int i = 0; i < vocabulary; i++) {
            int bits = Float.floatToIntBits(logits[offset + i]);
            int ascending = bits ^ (bits >> 31 & 0x7FFFFFFF);
            keys[i] = (long) ~ascending << 32 | i;
        }
        Arrays.sort(keys, 0, vocabulary);
        for (int i = 0; i < vocabulary; i++) {
            order[i] = (int) keys[i];
        }
        return order;
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
    private static double[] softmax(float[] logits, int offset, int[] order, int n, float temperature, double[] p) {
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
