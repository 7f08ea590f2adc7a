package io.kvcache.core.kv;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Attention over low-precision entries from their codes, against a plain restatement in double:
 * every key and value decoded to floats, the balance restored, then the dot products and the
 * weighted sum.
 */
class LowPrecisionAttentionTest {

    /** width, bits, group size: the vector path (4 bits, whole chunks) and the row-by-row one. */
    @ParameterizedTest
    @CsvSource({"64, 4, 32", "64, 4, 64", "128, 4, 32", "16, 4, 16", "8, 4, 8", "64, 3, 32", "64, 2, 32", "48, 4, 32"})
    void scoresAndValuesMatchDecodedRows(int width, int bits, int groupSize) {
        Random random = new Random(width * 31L + bits * 7L + groupSize);
        HeadCache head = head(width, bits, groupSize, true);
        float[] factors = new float[width];
        for (int c = 0; c < width; c++) {
            factors[c] = 0.25f + random.nextFloat() * 4;
        }
        head.setKeyBalance(KeyBalance.of(factors));
        int rows = 37;
        for (int r = 0; r < rows; r++) {
            float[] key = randomRow(random, width, r % 5 == 0 ? 8 : 1);
            float[] value = randomRow(random, width, 1);
            head.keyBalance().divideKey(key, 0);
            head.lowPrecision().append(r, key, 0, value, 0, 0f, 0f);
        }
        float[] decodedKeys = new float[rows * width];
        float[] decodedValues = new float[rows * width];
        head.readKeys(rows, decodedKeys);
        head.readValues(rows, decodedValues);

        // Five query heads: a pass of four and one of one; scores and weights strided by rows + 2.
        int heads = 5;
        int stride = rows + 2;
        float[] query = randomRow(random, 3 + heads * width, 2);
        float scale = 0.125f;
        float[] scores = new float[1 + heads * stride];
        LowPrecisionAttention attention = new LowPrecisionAttention();
        attention.scores(head, query, 3, heads, scale, scores, 1, stride);
        for (int h = 0; h < heads; h++) {
            for (int r = 0; r < rows; r++) {
                double expected = 0;
                double magnitude = 0;
                for (int c = 0; c < width; c++) {
                    double product = (double) query[3 + h * width + c] * decodedKeys[r * width + c];
                    expected += product;
                    magnitude += Math.abs(product);
                }
                assertThat((double) scores[1 + h * stride + r]).as("head %d row %d", h, r)
                        .isCloseTo(expected * scale, within(1e-5 * magnitude + 1e-6));
            }
            assertThat(scores[1 + h * stride + rows]).isZero();
        }

        float[] weights = new float[heads * stride];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = random.nextFloat() / rows;
        }
        float[] out = new float[heads * width + 5];
        out[2] = 1.5f; // adds to what is there
        attention.addValues(head, weights, 0, stride, heads, out, 2);
        for (int h = 0; h < heads; h++) {
            for (int d = 0; d < width; d++) {
                double expected = h == 0 && d == 0 ? 1.5 : 0;
                double magnitude = Math.abs(expected);
                for (int r = 0; r < rows; r++) {
                    double product = (double) weights[h * stride + r] * decodedValues[r * width + d];
                    expected += product;
                    magnitude += Math.abs(product);
                }
                assertThat((double) out[2 + h * width + d]).as("head %d value %d", h, d)
                        .isCloseTo(expected, within(1e-5 * magnitude + 1e-6));
            }
        }
        assertThat(out[0]).isZero();
        assertThat(out[heads * width + 2]).isZero();
    }

    /**
     * One 4-bit row of 32 values worked by hand: values 0..15 then 15..0 in steps of 0.5 from -2,
     * so the group spans [-2, 5.5]: minimum -2, scale 0.5 (both exact in fp16) and codes 0..15,
     * 15..0; a query of ones gives the sum of the values, (0+..+15) * 2 * 0.5 - 2 * 32 = 56.
     */
    @Test
    void aHandComputedRow() {
        HeadCache head = head(32, 4, 32, false);
        float[] key = new float[32];
        for (int i = 0; i < 16; i++) {
            key[i] = -2 + 0.5f * i;
            key[31 - i] = key[i];
        }
        head.lowPrecision().append(0, key, 0, key, 0, 0f, 0f);
        float[] query = new float[32];
        java.util.Arrays.fill(query, 1f);
        float[] scores = new float[1];
        LowPrecisionAttention attention = new LowPrecisionAttention();
        attention.scores(head, query, 0, 1, 2f, scores, 0, 1);
        assertThat(scores[0]).isEqualTo(2 * 56f);
        float[] out = new float[32];
        attention.addValues(head, new float[] {0.5f}, 0, 1, 1, out, 0);
        for (int i = 0; i < 32; i++) {
            assertThat(out[i]).isEqualTo(0.5f * key[i]);
        }
    }

    @Test
    void aHeadWithoutLowPrecisionEntriesAddsNothing() {
        HeadCache head = head(64, 4, 32, true);
        float[] scores = {7f};
        float[] out = {3f};
        LowPrecisionAttention attention = new LowPrecisionAttention();
        attention.scores(head, new float[64], 0, 1, 1f, scores, 0, 1);
        attention.addValues(head, new float[] {1f}, 0, 1, 1, out, 0);
        assertThat(scores[0]).isEqualTo(7f);
        assertThat(out[0]).isEqualTo(3f);
    }

    private static HeadCache head(int width, int bits, int groupSize, boolean balance) {
        StorageLayout layout = new MixedPrecisionPolicy(1, 0.1, new LowPrecision(bits, groupSize, balance), BudgetAllocation.UNIFORM).layout();
        return new HeadCache(width, width, layout);
    }

    private static float[] randomRow(Random random, int width, float spread) {
        float[] row = new float[width];
        for (int c = 0; c < width; c++) {
            row[c] = (float) random.nextGaussian() * spread;
        }
        return row;
    }
}
