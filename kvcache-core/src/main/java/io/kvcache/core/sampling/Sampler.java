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
    private long[] heap = new long[0];
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
        int kept = descending(logits, offset, vocabulary, params.topK());
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

    /**
     * Puts the candidates in {@link #order}, most likely first (ties: lower id first), and returns
     * how many: the {@code topK} best (all when 0), leaving out tokens whose logit is minus infinity
     * (masked, never to be drawn) unless all are. Sorted as 64-bit keys (the logit's order in the
     * high half, the id in the low), so the order is the same as a stable sort by logit and costs a
     * primitive sort, or a bounded heap for top-k, in buffers kept from token to token.
     */
    private int descending(float[] logits, int offset, int vocabulary, int topK) {
        if (keys.length < vocabulary) {
            keys = new long[vocabulary];
            order = new int[vocabulary];
            probabilities = new double[vocabulary];
            tempered = new double[vocabulary];
        }
        int n = 0;
        for (int i = 0; i < vocabulary; i++) {
            float l = logits[offset + i];
            if (l != Float.NEGATIVE_INFINITY) {
                keys[n++] = key(l, i);
            }
        }
        if (n == 0) {
            for (int i = 0; i < vocabulary; i++) {
                keys[n++] = key(logits[offset + i], i);
            }
        }
        int k = topK > 0 ? Math.min(topK, n) : n;
        long[] sorted = keys;
        if (k < n && k <= 4096) {
            // A max-heap of the k smallest keys (the k most likely tokens) seen so far.
            if (heap.length < k) {
                heap = new long[k];
            }
            System.arraycopy(keys, 0, heap, 0, k);
            for (int i = k / 2 - 1; i >= 0; i--) {
                siftDown(heap, i, k);
            }
            for (int i = k; i < n; i++) {
                if (keys[i] < heap[0]) {
                    heap[0] = keys[i];
                    siftDown(heap, 0, k);
                }
            }
            sorted = heap;
            n = k;
        }
        Arrays.sort(sorted, 0, n);
        for (int i = 0; i < k; i++) {
            order[i] = (int) sorted[i];
        }
        return k;
    }

    /** A key that sorts ascending as the logit descending, then the id ascending (as Float.compare orders logits). */
    private static long key(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return (long) ~sortable << 32 | id;
    }

    private static void siftDown(long[] heap, int i, int n) {
        while (true) {
            int largest = i;
            int left = 2 * i + 1;
            int right = left + 1;
            if (left < n && heap[left] > heap[largest]) {
                largest = left;
            }
            if (right < n && heap[right] > heap[largest]) {
                largest = right;
            }
            if (largest == i) {
                return;
            }
            long t = heap[i];
            heap[i] = heap[largest];
            heap[largest] = t;
            i = largest;
        }
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
