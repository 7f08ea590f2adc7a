package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vectorized activation conversions agree exactly with the scalar restatements of ggml's. */
class ActivationsTest {
    private static final int COLS = 512;
    private static final int BATCH = 3;

    /** Gaussian inputs, plus the awkward cases: an all-zero block, exact halves, and a tie for the largest magnitude. */
    private static float[] inputs() {
        Random random = new Random(7);
        float[] x = new float[COLS * BATCH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian() * 3;
        }
        Arrays.fill(x, 256, 512, 0f);
        for (int i = 0; i < 32; i++) {
            x[COLS + i] = i - 15.5f;      // q = x * 127/16.5: values near .5 after scaling
        }
        x[2 * COLS + 3] = -50f;            // both -50 and 50: the first one sets the Q8_K sign
        x[2 * COLS + 9] = 50f;
        return x;
    }

    @Test
    void q8_0MatchesReference() {
        float[] x = inputs();
        Activations a = new Activations();
        a.prepare(Activations.Format.Q8_0, x, COLS, BATCH);
        a.convert(x, 0, BATCH);
        for (int b = 0; b < BATCH; b++) {
            ReferenceQuantizer.Quantized ref = ReferenceQuantizer.q8_0(x, b * COLS, COLS);
            for (int i = 0; i < COLS; i++) {
                // Each block is stored in Q8_0_ORDER: position p holds quant Q8_0_ORDER[p].
                int stored = i - i % 32 + indexOf(Activations.Q8_0_ORDER, i % 32);
                assertEquals(ref.q()[i], a.values[b * COLS + stored], 0, "input " + b + " value " + i);
            }
            for (int k = 0; k < COLS / 32; k++) {
                assertEquals(ref.d()[k], a.scales[b * COLS / 32 + k], 0, "input " + b + " block " + k);
            }
        }
    }

    @Test
    void q8KMatchesReference() {
        float[] x = inputs();
        Activations a = new Activations();
        a.prepare(Activations.Format.Q8_K, x, COLS, BATCH);
        a.convert(x, 0, BATCH);
        for (int b = 0; b < BATCH; b++) {
            ReferenceQuantizer.Quantized ref = ReferenceQuantizer.q8K(x, b * COLS, COLS);
            checkQ8K(a, b, ref, true);
        }
        assertEquals(1f / (-127f / -50f), a.scales[2 * COLS / 256], 0); // positive: -50 came first
    }

    @Test
    void plainQ8KTakesTheGroupedQuantizersSignForWholeGroupsOfFourRows() {
        int batch = 5;
        float[] x = new float[batch * COLS];
        System.arraycopy(inputs(), 0, x, 0, BATCH * COLS);
        System.arraycopy(inputs(), 0, x, BATCH * COLS, 2 * COLS);
        x[4 * COLS + 3] = -50f; // input 4 is quantized alone, as quantize_row_q8_K does
        x[4 * COLS + 9] = 50f;
        Activations a = new Activations();
        a.prepare(Activations.Format.Q8_K_PLAIN, x, COLS, batch);
        a.convert(x, 0, 2);
        a.convert(x, 2, batch);
        for (int b = 0; b < batch; b++) {
            ReferenceQuantizer.Quantized ref = ReferenceQuantizer.q8K(x, b * COLS, COLS, b < 4);
            checkQ8K(a, b, ref, false);
        }
        assertEquals(1f / (-127f / 50f), a.scales[2 * COLS / 256], 0); // negative: some value is +amax
        assertEquals(1f / (-127f / -50f), a.scales[4 * COLS / 256], 0); // positive: -50 came first
    }

    private static void checkQ8K(Activations a, int b, ReferenceQuantizer.Quantized ref, boolean ordered) {
        for (int i = 0; i < COLS; i++) {
            int stored = ordered ? i - i % 32 + indexOf(Activations.Q8_0_ORDER, i % 32) : i;
            assertEquals(ref.q()[i], a.values[b * COLS + stored], 0, "input " + b + " value " + i);
        }
        for (int k = 0; k < COLS / 256; k++) {
            assertEquals(ref.d()[k], a.scales[b * COLS / 256 + k], 0, "input " + b + " block " + k);
        }
        for (int g = 0; g < COLS / 16; g++) {
            // Per block of 16 groups: the even groups' sums, then the odd groups'.
            int stored = g - g % 16 + (g % 16) / 2 + 8 * (g % 2);
            assertEquals(ref.sum16(g), a.sums[b * COLS / 16 + stored], "input " + b + " group " + g);
        }
    }

    @Test
    void plainQ8_0KeepsTheQuantsInOrder() {
        float[] x = inputs();
        Activations a = new Activations();
        a.prepare(Activations.Format.Q8_0_PLAIN, x, COLS, BATCH);
        a.convert(x, 0, BATCH);
        for (int b = 0; b < BATCH; b++) {
            ReferenceQuantizer.Quantized ref = ReferenceQuantizer.q8_0(x, b * COLS, COLS);
            for (int i = 0; i < COLS; i++) {
                assertEquals(ref.q()[i], a.values[b * COLS + i], 0, "input " + b + " value " + i);
            }
            for (int k = 0; k < COLS / 32; k++) {
                assertEquals(ref.d()[k], a.scales[b * COLS / 32 + k], 0, "input " + b + " block " + k);
            }
        }
    }

    @Test
    void halfPrecisionFormatsRoundToNearestEven() {
        float[] x = inputs();
        Activations a = new Activations();
        a.prepare(Activations.Format.F16, x, COLS, BATCH);
        a.convert(x, 0, BATCH);
        double[] f16 = ReferenceQuantizer.activation(GgmlType.F16, x, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(f16[i], a.values[i], 0);
        }
        a.prepare(Activations.Format.BF16, x, COLS, BATCH);
        a.convert(x, 0, BATCH);
        double[] bf16 = ReferenceQuantizer.activation(GgmlType.BF16, x, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            // Whole 32-value chunks are stored as their 16 even-indexed values, then the 16 odd ones.
            int j = i % 32;
            int stored = i - j + (j % 2 == 0 ? j / 2 : 16 + j / 2);
            assertEquals(bf16[i], a.values[stored], 0, "value " + i);
        }
    }

    private static int indexOf(int[] order, int value) {
        for (int p = 0; p < order.length; p++) {
            if (order[p] == value) {
                return p;
            }
        }
        throw new AssertionError(value + " missing from the order");
    }
}
