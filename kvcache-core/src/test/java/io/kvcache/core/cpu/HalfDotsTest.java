package io.kvcache.core.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The decode kernel's batched scores against ggml's AVX-512 order restated lane by lane in scalar
 * code: per block of 64 dimensions, four 16-lane fused multiply-add accumulators; then acc0 += acc2,
 * acc1 += acc3, acc0 += acc1; then the lanes halved 8+8, 4+4, 2+2, 1+1; a remainder past whole
 * blocks summed in double. Bit for bit, on fp16-valued inputs, for widths of one and two blocks,
 * with a remainder, and below one block.
 */
class HalfDotsTest {

    @ParameterizedTest
    @ValueSource(ints = {64, 128, 80, 32})
    void scoresFollowGgmlsOrderBitForBit(int width) {
        SplittableRandom random = new SplittableRandom(width);
        int entries = 150; // two chunks and a part
        float[] query = halves(random, 3 + width);
        float[] keys = halves(random, entries * width);
        float scale = 0.125f;
        float[] scores = new float[entries];
        AttentionKernels.halfDots(query, 3, keys, 5, entries, width, scale, scores);
        for (int e = 5; e < entries; e++) {
            assertThat(scores[e]).as("entry " + e).isEqualTo(ggmlOrder(query, 3, keys, e * width, width) * scale);
        }
    }

    private static float ggmlOrder(float[] x, int xOff, float[] y, int yOff, int n) {
        int whole = n - n % 64;
        double sum = 0;
        if (whole > 0) {
            float[][] acc = new float[4][16];
            for (int i = 0; i < whole; i += 64) {
                for (int j = 0; j < 4; j++) {
                    for (int l = 0; l < 16; l++) {
                        int d = i + 16 * j + l;
                        acc[j][l] = Math.fma(x[xOff + d], y[yOff + d], acc[j][l]);
                    }
                }
            }
            float[] lanes = new float[16];
            for (int l = 0; l < 16; l++) {
                float a0 = acc[0][l] + acc[2][l];
                float a1 = acc[1][l] + acc[3][l];
                lanes[l] = a0 + a1;
            }
            for (int half = 8; half >= 1; half /= 2) {
                for (int l = 0; l < half; l++) {
                    lanes[l] = lanes[l] + lanes[l + half];
                }
            }
            sum = lanes[0];
        }
        for (int d = whole; d < n; d++) {
            sum += x[xOff + d] * y[yOff + d];
        }
        return (float) sum;
    }

    private static float[] halves(SplittableRandom random, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = AttentionKernels.toHalf((float) (random.nextGaussian()));
        }
        return out;
    }
}
