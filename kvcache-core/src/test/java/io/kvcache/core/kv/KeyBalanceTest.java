package io.kvcache.core.kv;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

class KeyBalanceTest {
    private static final int WIDTH = 32;

    @Test
    void factorsAreTheSquareRootOfTheKeyToQueryRangeRatio() {
        float[] keys = {4, 0, 1, 9};
        float[] queries = {1, 2, -4, 0};
        KeyBalance balance = KeyBalance.fromPrefill(keys, 0, 2, queries, 0, 2, 2);
        // channel 0: max|K| = 4 (rows 4, 1), max|Q| = 4 (rows 1, -4): sqrt(1) = 1
        // channel 1: max|K| = 9, max|Q| = 2: sqrt(4.5)
        assertThat(balance.factor(0)).isEqualTo(1f);
        assertThat(balance.factor(1)).isCloseTo((float) Math.sqrt(4.5), offset(1e-6f));
        KeyBalance zero = KeyBalance.fromPrefill(new float[] {0, 1}, 0, 1, new float[] {1, 0}, 0, 1, 2);
        assertThat(zero.factor(0)).isEqualTo(1f);
        assertThat(zero.factor(1)).isEqualTo(1f);
    }

    /** Keys with one outlier channel 50 times the others, quantized per row to low bits. */
    @Test
    void balancingShrinksTheScoreErrorOfLowBitKeys() {
        Random random = new Random(11);
        int rows = 64;
        float[] keys = new float[rows * WIDTH];
        float[] queries = new float[rows * WIDTH];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) random.nextGaussian() * (i % WIDTH == 5 ? 50 : 1);
            queries[i] = (float) random.nextGaussian();
        }
        KeyBalance balance = KeyBalance.fromPrefill(keys, 0, rows, queries, 0, rows, WIDTH);
        for (int bits : new int[] {2, 4}) {
            double plain = scoreError(keys, queries, rows, KeyBalance.identity(WIDTH), bits);
            double balanced = scoreError(keys, queries, rows, balance, bits);
            assertThat(balanced).as("%d bits", bits).isLessThan(plain / 2);
        }
    }

    /** Mean squared error of q·k when keys are stored divided by the factors, quantized, and restored. */
    private static double scoreError(float[] keys, float[] queries, int rows, KeyBalance balance, int bits) {
        LowBitRows codec = new LowBitRows(WIDTH, bits, WIDTH);
        byte[] encoded = new byte[codec.bytesPerRow()];
        float[] key = new float[WIDTH];
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            System.arraycopy(keys, r * WIDTH, key, 0, WIDTH);
            balance.divideKey(key, 0);
            codec.encode(key, 0, encoded, 0);
            codec.decode(encoded, 0, key, 0);
            balance.restoreKeys(key, 0, 1);
            for (int q = 0; q < rows; q++) {
                double exact = 0;
                double approximate = 0;
                for (int c = 0; c < WIDTH; c++) {
                    exact += queries[q * WIDTH + c] * keys[r * WIDTH + c];
                    approximate += queries[q * WIDTH + c] * key[c];
                }
                sum += (exact - approximate) * (exact - approximate);
            }
        }
        return sum / (rows * rows);
    }

    @Test
    void dividingThenRestoringGivesTheKeyBack() {
        KeyBalance balance = KeyBalance.fromPrefill(new float[] {8, 2}, 0, 1, new float[] {2, 8}, 0, 1, 2);
        float[] key = {3, 5};
        balance.divideKey(key, 0);
        assertThat(key).containsExactly(1.5f, 10f);
        balance.restoreKeys(key, 0, 1);
        assertThat(key).containsExactly(3, 5);
        assertThat(balance.bytesHeld()).isEqualTo(8);
    }
}
