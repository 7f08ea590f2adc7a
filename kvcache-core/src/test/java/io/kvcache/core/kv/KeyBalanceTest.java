package io.kvcache.core.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Balancing leaves attention scores alone and makes low-bit keys with an outlier channel far more accurate. */
class KeyBalanceTest {
    private static final int WIDTH = 64;
    private static final int OUTLIER = 7;

    @Test
    void factorsFromHandPickedMaxima() {
        // Channel 0: max|K| 4, max|Q| 1 -> sqrt(4) = 2. Channel 1: 1 and 16 -> 1/4.
        // Channel 2: keys all 0 -> 1. Channel 3: queries all 0 -> 1. Channel 4: a NaN key -> 1.
        // Channel 5: 1e10 and 1e-2 -> sqrt(1e12) = 1e6, clamped to 1e4.
        float[] keys = {
                -4f, 0.5f, 0f, 3f, Float.NaN, 1e10f,
                1f, -1f, 0f, -2f, 1f, 5f};
        float[] queries = {
                0.25f, 16f, 2f, 0f, 1f, -1e-2f,
                -1f, -3f, 1f, 0f, 1f, 0f};
        KeyBalance balance = KeyBalance.fromPrefill(keys, 0, 2, queries, 0, 2, 6);
        assertThat(balance.factor(0)).isEqualTo(2f);
        assertThat(balance.factor(1)).isEqualTo(0.25f);
        assertThat(balance.factor(2)).isEqualTo(1f);
        assertThat(balance.factor(3)).isEqualTo(1f);
        assertThat(balance.factor(4)).isEqualTo(1f);
        assertThat(balance.factor(5)).isEqualTo(1e4f);
        assertThat(balance.width()).isEqualTo(6);
        assertThat(balance.bytesHeld()).isEqualTo(24);
    }

    @Test
    void rowsAreReadFromTheirOffsets() {
        // Row 0 of each array lies before the offset and must be ignored.
        float[] keys = {100f, 100f, 9f, 1f};
        float[] queries = {100f, 100f, 1f, 4f};
        KeyBalance balance = KeyBalance.fromPrefill(keys, 2, 1, queries, 2, 1, 2);
        assertThat(balance.factor(0)).isEqualTo(3f);
        assertThat(balance.factor(1)).isEqualTo(0.5f);
    }

    @Test
    void identityPassesKeysAndQueriesThrough() {
        KeyBalance identity = KeyBalance.identity(3);
        float[] key = {1.5f, -2f, 3f};
        identity.divideKey(key, 0);
        assertThat(key).containsExactly(1.5f, -2f, 3f);
        float[] rows = {0f, 0.5f, 7f, -1f};
        identity.restoreKeys(rows, 1, 1);
        assertThat(rows).containsExactly(0f, 0.5f, 7f, -1f);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThatThrownBy(() -> KeyBalance.identity(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("width");
        assertThatThrownBy(() -> KeyBalance.fromPrefill(new float[8], 0, 3, new float[8], 0, 1, 4))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> KeyBalance.fromPrefill(new float[8], 0, -1, new float[8], 0, 1, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    }

    @Test
    void scoresAreUnchanged() {
        SplittableRandom random = new SplittableRandom(1);
        float[] keys = outlierRows(random, 256, 50);
        float[] queries = outlierRows(random, 256, 1);
        KeyBalance balance = KeyBalance.fromPrefill(keys, 0, 256, queries, 0, 256, WIDTH);
        assertThat(balance.factor(OUTLIER)).isGreaterThan(5f);
        float[] key = new float[WIDTH];
        for (int r = 0; r < 256; r++) {
            System.arraycopy(keys, r * WIDTH, key, 0, WIDTH);
            balance.divideKey(key, 0);
            balance.restoreKeys(key, 0, 1);
            double magnitude = 0;
            for (int c = 0; c < WIDTH; c++) {
                magnitude += Math.abs((double) keys[r * WIDTH + c] * queries[r * WIDTH + c]);
            }
            // Each product picks up at most two float roundings (the division and the multiplication).
            assertThat(dot(queries, r * WIDTH, key, 0)).isCloseTo(dot(queries, r * WIDTH, keys, r * WIDTH), within(magnitude * 0x1p-22));
        }
    }

    /**
     * Keys whose channel {@value #OUTLIER} is 50 times the others: unbalanced, that channel sets the
     * range, and so the step, of its whole quantization group. Balanced, the outlier channel still
     * dominates the error at 2 bits (its quantization error is multiplied by the query's factor),
     * so the gain is smaller there: the measured ratios of score MSE are 29.7 (4 bits) and 3.8 (2 bits).
     */
    @ParameterizedTest
    @CsvSource({"4, 15", "2, 2.5"})
    void balanceShrinksTheScoreErrorOfLowBitKeys(int bits, double atLeast) {
        SplittableRandom random = new SplittableRandom(bits);
        int prefill = 512;
        KeyBalance balance = KeyBalance.fromPrefill(outlierRows(random, prefill, 50), 0, prefill,
                outlierRows(random, prefill, 1), 0, prefill, WIDTH);
        LowBitRows rows = new LowBitRows(WIDTH, bits, 32);
        int n = 2000;
        float[] keys = outlierRows(random, n, 50);
        float[] queries = outlierRows(random, n, 1);
        double balanced = scoreMse(balance, rows, keys, queries, n);
        double unbalanced = scoreMse(KeyBalance.identity(WIDTH), rows, keys, queries, n);
        assertThat(unbalanced / balanced).isGreaterThan(atLeast);
    }

    /** Mean squared error of q·k' against q·k, where k' is the key divided, quantized, decoded and restored. */
    private static double scoreMse(KeyBalance balance, LowBitRows rows, float[] keys, float[] queries, int n) {
        float[] key = new float[WIDTH];
        byte[] encoded = new byte[rows.bytesPerRow()];
        double sum = 0;
        for (int r = 0; r < n; r++) {
            System.arraycopy(keys, r * WIDTH, key, 0, WIDTH);
            balance.divideKey(key, 0);
            rows.encode(key, 0, encoded, 0);
            rows.decode(encoded, 0, key, 0);
            balance.restoreKeys(key, 0, 1);
            sum += Math.pow(dot(queries, r * WIDTH, key, 0) - dot(queries, r * WIDTH, keys, r * WIDTH), 2);
        }
        return sum / n;
    }

    /** N(0,1) rows, with channel {@value #OUTLIER} scaled by {@code outlier}. */
    private static float[] outlierRows(SplittableRandom random, int rows, double outlier) {
        float[] x = new float[rows * WIDTH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * (i % WIDTH == OUTLIER ? outlier : 1));
        }
        return x;
    }

    private static double dot(float[] a, int aOff, float[] b, int bOff) {
        double sum = 0;
        for (int c = 0; c < WIDTH; c++) {
            sum += (double) a[aOff + c] * b[bOff + c];
        }
        return sum;
    }
}
