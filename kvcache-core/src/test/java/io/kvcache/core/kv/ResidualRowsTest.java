package io.kvcache.core.kv;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The kept rows of a quantized kv-type: the latest rows fp16, the others codes, always as a function of the count. */
class ResidualRowsTest {
    private static final int WIDTH = 8;
    private static final LowBitRows Q4 = new LowBitRows(WIDTH, 4, WIDTH);

    private static float[] rows(int count, long seed) {
        Random random = new Random(seed);
        float[] x = new float[count * WIDTH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    private static float[] decoded(RowStore store) {
        float[] out = new float[store.rows() * WIDTH];
        store.decode(0, store.rows(), out, 0);
        return out;
    }

    /** fp16 of the latest 3, and within half a group scale (range/15/2, plus fp16 rounding) for the older. */
    @Test
    void theLatestRowsStayFp16AndTheOlderAreQuantizedWithinHalfAStep() {
        float[] x = rows(10, 1);
        ResidualRows store = new ResidualRows(Q4, 3);
        for (int r = 0; r < 10; r++) {
            store.append(x, r * WIDTH);
        }
        float[] out = decoded(store);
        for (int r = 0; r < 10; r++) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int c = 0; c < WIDTH; c++) {
                min = Math.min(min, x[r * WIDTH + c]);
                max = Math.max(max, x[r * WIDTH + c]);
            }
            for (int c = 0; c < WIDTH; c++) {
                float v = x[r * WIDTH + c];
                if (r >= 7) {
                    assertThat(out[r * WIDTH + c]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(v)));
                } else {
                    assertThat(Math.abs(out[r * WIDTH + c] - v)).isLessThanOrEqualTo((max - min) / 15 / 2 * 1.01f + 2e-3f);
                }
            }
        }
        // 7 rows of 4 + 4 bytes, 3 rows of 16
        assertThat(store.bytesHeld()).isEqualTo(7 * 8 + 3 * 16).isEqualTo(store.storedBytesOf(10));
    }

    /** Dropping fp16 rows brings the latest quantized row back into the tail, decoded: the layout follows the count. */
    @Test
    void retainKeepsTheLatestRowsFp16AndStoresTheSameAsAFreshStore() {
        float[] x = rows(10, 2);
        ResidualRows store = new ResidualRows(Q4, 3);
        for (int r = 0; r < 10; r++) {
            store.append(x, r * WIDTH);
        }
        float[] before = decoded(store);
        store.retain(new int[] {0, 2, 5, 6, 9}, 5);
        float[] after = decoded(store);
        int[] kept = {0, 2, 5, 6, 9};
        Float16Rows fp16 = new Float16Rows(WIDTH);
        for (int i = 0; i < 5; i++) {
            fp16.append(before, kept[i] * WIDTH);
        }
        float[] expected = decoded(fp16);
        // rows 0 and 2 keep their codes; 5, 6 and 9 are the fp16 tail
        for (int i = 0; i < 5; i++) {
            for (int c = 0; c < WIDTH; c++) {
                float want = i < 2 ? before[kept[i] * WIDTH + c] : expected[i * WIDTH + c];
                assertThat(after[i * WIDTH + c]).as("row " + i).isEqualTo(want);
            }
        }
        assertThat(store.bytesHeld()).isEqualTo(2 * 8 + 3 * 16).isEqualTo(store.storedBytesOf(5));

        ResidualRows restored = new ResidualRows(Q4, 3);
        restored.appendStored(store.storedBytes(), 5);
        assertThat(decoded(restored)).containsExactly(after);
        assertThat(restored.storedBytes()).containsExactly(store.storedBytes());
        assertThatThrownBy(() -> restored.appendStored(store.storedBytes(), 5)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new ResidualRows(Q4, 3).appendStored(store.storedBytes(), 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not 4 rows");
    }

    @Test
    void withoutAResidualEveryRowIsQuantized() {
        float[] x = rows(4, 3);
        ResidualRows store = new ResidualRows(Q4, 0);
        QuantizedRows plain = new QuantizedRows(Q4);
        for (int r = 0; r < 4; r++) {
            store.append(x, r * WIDTH);
            plain.append(x, r * WIDTH);
        }
        assertThat(store.storedBytes()).containsExactly(plain.storedBytes());
        store.truncate(2);
        assertThat(store.rows()).isEqualTo(2);
        assertThat(store.bytesHeld()).isEqualTo(16);
    }
}
