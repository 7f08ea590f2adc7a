package io.kvcache.core.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The compressed heads' float softmax (a decode step's {@link AttentionKernels#scoreRows},
 * {@link AttentionKernels#softmax} and {@link AttentionKernels#addWeightedValues}, a tile of entries
 * at a time, with part of the entries scored elsewhere, and {@link AttentionKernels#weightedTiled}
 * for a batch)
 * against a plain restatement in double: scores, soft cap, biases, softmax, weighted values.
 */
class WeightedAttentionTest {
    private static final float SCALE = 0.125f;

    @ParameterizedTest
    @CsvSource({"150, 64, 0", "150, 64, 30", "64, 32, 0", "7, 16, 0", "200, 48, 0"})
    void decodeAndBatchKernelsMatchTheRestatement(int entries, int hd, float softCap) {
        Random random = new Random(entries * 31L + hd);
        int vd = hd;
        float[] query = gaussian(random, hd + 5, 2);
        float[] keys = gaussian(random, entries * hd, 1);
        float[] values = gaussian(random, entries * vd, 1);
        float[] biases = new float[entries];
        for (int e = 0; e < entries; e += 3) {
            biases[e] = (float) Math.log(1 + e % 4);
        }
        double[] expectedP = new double[entries];
        double[] expectedOut = new double[vd];
        restate(query, 5, keys, values, biases, entries, hd, vd, softCap, expectedP, expectedOut);

        // A decode step whose first third is scored elsewhere.
        int scored = entries / 3;
        float[] probabilities = new float[2 + entries];
        for (int e = 0; e < scored; e++) {
            float dot = 0f;
            for (int d = 0; d < hd; d++) {
                dot += query[5 + d] * keys[e * hd + d];
            }
            probabilities[2 + e] = dot * (softCap > 0 ? SCALE / softCap : SCALE);
        }
        // the rest a tile at a time, as a decode step reads a compressed head's fp16 entries
        float[] out = new float[vd + 3];
        int tile = AttentionKernels.KV_TILE;
        for (int from = scored; from < entries; from += tile) {
            int rows = Math.min(tile, entries - from);
            float[] tileKeys = java.util.Arrays.copyOfRange(keys, from * hd, (from + rows) * hd);
            AttentionKernels.scoreRows(query, 5, tileKeys, rows, hd, SCALE, softCap, probabilities, 2 + from);
        }
        AttentionKernels.softmax(probabilities, 2, entries, biases, softCap);
        for (int from = scored; from < entries; from += tile) {
            int rows = Math.min(tile, entries - from);
            float[] tileValues = java.util.Arrays.copyOfRange(values, from * vd, (from + rows) * vd);
            AttentionKernels.addWeightedValues(probabilities, 2 + from, rows, tileValues, 0, out, 3, vd);
        }
        for (int e = 0; e < scored; e++) {
            for (int d = 0; d < vd; d++) {
                out[3 + d] += probabilities[2 + e] * values[e * vd + d];
            }
        }
        check(probabilities, 2, out, 3, expectedP, expectedOut);

        // The batch kernel, keys dimension by dimension.
        int stride = (entries + AttentionKernels.KV_TILE - 1) / AttentionKernels.KV_TILE * AttentionKernels.KV_TILE;
        float[] byDimension = new float[hd * stride];
        for (int e = 0; e < entries; e++) {
            for (int d = 0; d < hd; d++) {
                byDimension[d * stride + e] = keys[e * hd + d];
            }
        }
        float[] batchP = new float[entries];
        float[] batchOut = new float[vd + 3];
        AttentionKernels.weightedTiled(query, 5, byDimension, stride, values, biases, entries, hd, vd, SCALE, softCap,
                batchOut, 3, batchP, new float[tile]);
        check(batchP, 0, batchOut, 3, expectedP, expectedOut);
    }

    private static void restate(float[] q, int qOff, float[] keys, float[] values, float[] biases, int entries, int hd,
                                int vd, float softCap, double[] p, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int e = 0; e < entries; e++) {
            double dot = 0;
            for (int d = 0; d < hd; d++) {
                dot += (double) q[qOff + d] * keys[e * hd + d];
            }
            double score = dot * SCALE;
            if (softCap > 0) {
                score = softCap * Math.tanh(score / softCap);
            }
            p[e] = score + biases[e];
            max = Math.max(max, p[e]);
        }
        double sum = 0;
        for (int e = 0; e < entries; e++) {
            p[e] = Math.exp(p[e] - max);
            sum += p[e];
        }
        for (int e = 0; e < entries; e++) {
            p[e] /= sum;
            for (int d = 0; d < vd; d++) {
                out[d] += p[e] * values[e * vd + d];
            }
        }
    }

    private static void check(float[] p, int pOff, float[] out, int outOff, double[] expectedP, double[] expectedOut) {
        for (int e = 0; e < expectedP.length; e++) {
            assertThat((double) p[pOff + e]).as("probability %d", e).isCloseTo(expectedP[e], within(2e-6 + 1e-4 * expectedP[e]));
        }
        for (int d = 0; d < expectedOut.length; d++) {
            assertThat((double) out[outOff + d]).as("value %d", d).isCloseTo(expectedOut[d], within(1e-5));
        }
        for (int i = 0; i < outOff; i++) {
            assertThat(out[i]).isZero();
        }
    }

    private static float[] gaussian(Random random, int n, float spread) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian() * spread;
        }
        return x;
    }
}
