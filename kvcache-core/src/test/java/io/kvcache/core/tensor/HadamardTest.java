package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The rotation a quantized key cache applies to keys and queries alike: hand-computed cases and the invariants it rests on. */
class HadamardTest {

    @Test
    void handComputedSmallTransforms() {
        float[] two = {1, 0};
        Hadamard.rotate(two, 0, 2);
        float r = (float) (1 / Math.sqrt(2));
        assertThat(two[0]).isCloseTo(r, within(1e-7f));
        assertThat(two[1]).isCloseTo(r, within(1e-7f));

        // H4 (1,1,1,1) / 2 = (2,0,0,0); H4 (1,-1,1,-1) / 2 = (0,2,0,0)
        float[] four = {9, 1, 1, 1, 1, 1, -1, 1, -1, 9};
        Hadamard.rotate(four, 1, 4);
        assertThat(four).containsExactly(9, 2, 0, 0, 0, 1, -1, 1, -1, 9);
        Hadamard.rotate(four, 5, 4);
        assertThat(four).containsExactly(9, 2, 0, 0, 0, 0, 2, 0, 0, 9);
    }

    /** 6 = 4 + 2: the first four values rotate among themselves, the last two among themselves. */
    @Test
    void aWidthThatIsNoPowerOfTwoRotatesPowerOfTwoBlocks() {
        float[] x = {1, 1, 1, 1, 3, -1};
        Hadamard.rotate(x, 0, 6);
        float r = (float) (1 / Math.sqrt(2));
        assertThat(x[0]).isEqualTo(2f);
        assertThat(x[1]).isZero();
        assertThat(x[2]).isZero();
        assertThat(x[3]).isZero();
        assertThat(x[4]).isCloseTo(2 * r, within(1e-6f));
        assertThat(x[5]).isCloseTo(4 * r, within(1e-6f));
    }

    /** Orthonormal: rotated dot products and norms equal the originals; and it is its own inverse. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 8, 16, 64, 80, 96, 128, 6, 7})
    void rotatedDotProductsEqualTheOriginals(int width) {
        Random random = new Random(width);
        for (int trial = 0; trial < 20; trial++) {
            float[] q = new float[width];
            float[] k = new float[width];
            for (int i = 0; i < width; i++) {
                q[i] = (float) random.nextGaussian();
                k[i] = (float) (random.nextGaussian() * (i == 0 ? 50 : 1)); // one outlier channel
            }
            double dot = dot(q, k);
            float[] rq = q.clone();
            float[] rk = k.clone();
            Hadamard.rotate(rq, 0, width);
            Hadamard.rotate(rk, 0, width);
            assertThat(dot(rq, rk)).isCloseTo(dot, within(1e-4 * (1 + Math.sqrt(dot(q, q) * dot(k, k)))));
            assertThat(dot(rk, rk)).isCloseTo(dot(k, k), within(1e-5 * dot(k, k)));
            Hadamard.rotate(rk, 0, width);
            for (int i = 0; i < width; i++) {
                assertThat(rk[i]).isCloseTo(k[i], within(1e-4f * (1 + Math.abs(k[i]))));
            }
        }
    }

    /** What the rotation is for: one outlier channel of 64 is spread evenly, so no value stands out by more than 1/8 of it. */
    @Test
    void anOutlierChannelIsSpreadOverEveryChannel() {
        float[] k = new float[64];
        k[5] = 80;
        Hadamard.rotate(k, 0, 64);
        for (float v : k) {
            assertThat(Math.abs(v)).isEqualTo(10f);
        }
    }

    private static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }
}
