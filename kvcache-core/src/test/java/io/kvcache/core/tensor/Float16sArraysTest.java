package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The vector conversions agree bit for bit with the JDK's scalar fp16 conversions. */
class Float16sArraysTest {
    @Test
    void everyHalfConvertsLikeTheJdk() {
        short[] all = new short[65536 + 7];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        float[] out = new float[all.length];
        Float16s.toFloats(all, 0, out, 0, all.length);
        for (int i = 0; i < all.length; i++) {
            assertThat(Float.floatToRawIntBits(out[i])).as("half 0x%04x", i & 0xFFFF)
                    .isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat(all[i])));
        }
    }

    @Test
    void roundingMatchesTheJdkOnEveryRange() {
        SplittableRandom random = new SplittableRandom(42);
        float[] x = new float[1 << 20];
        for (int i = 0; i < x.length; i++) {
            // Random bit patterns cover subnormals, overflow, NaN and ties; scaled normals cover the common case.
            x[i] = i % 2 == 0 ? Float.intBitsToFloat(random.nextInt()) : (float) (random.nextGaussian() * Math.pow(2, random.nextInt(-20, 18)));
        }
        x[0] = 65504f;
        x[1] = 65519.99f;
        x[2] = 65520f;
        x[3] = 1.00048828125f; // exactly halfway between two fp16 values: ties to even
        x[4] = -0f;
        assertRoundsLikeTheJdk(x);
    }

    /**
     * Vectors whose every lane lies below fp16's smallest normal take the in-lane subnormal rounding
     * (mixed with normals they take the blend): every 7th float below 2^-13 and every tie between
     * two subnormals, both signs.
     */
    @Test
    void subnormalRoundingMatchesTheJdk() {
        int from = 0x30000000; // 2^-31, far below half the smallest subnormal
        int to = 0x39000000;   // 2^-13, past the smallest normal
        int count = (to - from) / 7;
        float[] x = new float[2 * count + 2 * 2048];
        for (int i = 0; i < count; i++) {
            x[2 * i] = Float.intBitsToFloat(from + 7 * i);
            x[2 * i + 1] = -Float.intBitsToFloat(from + 7 * i + 3);
        }
        for (int k = 0; k < 2048; k++) {
            x[2 * count + 2 * k] = (k + 0.5f) * 0x1p-24f;
            x[2 * count + 2 * k + 1] = -(k + 0.5f) * 0x1p-24f;
        }
        assertRoundsLikeTheJdk(x);
    }

    /**
     * Every tie between two consecutive finite fp16 values, and the floats just below and above it,
     * both signs: where rounding to nearest even decides, in every binade and among the subnormals.
     */
    @Test
    void everyTieRoundsLikeTheJdk() {
        float[] x = new float[6 * 0x7BFF];
        int n = 0;
        for (short h = 0; h < 0x7BFF; h++) {
            float tie = (Float.float16ToFloat(h) + Float.float16ToFloat((short) (h + 1))) / 2;
            for (float f : new float[] {tie, Math.nextDown(tie), Math.nextUp(tie)}) {
                x[n++] = f;
                x[n++] = -f;
            }
        }
        assertRoundsLikeTheJdk(x);
    }

    /** Float16s.round over x gives, lane by lane and bit for bit, the JDK's rounding to fp16. */
    private static void assertRoundsLikeTheJdk(float[] x) {
        float[] rounded = x.clone();
        Float16s.round(rounded, 0, rounded.length);
        for (int i = 0; i < x.length; i++) {
            float expected = Float.float16ToFloat(Float.floatToFloat16(x[i]));
            if (Float.floatToRawIntBits(rounded[i]) != Float.floatToRawIntBits(expected)) {
                assertThat(Float.floatToRawIntBits(rounded[i])).as("rounding %s (bits 0x%08x)", x[i], Float.floatToRawIntBits(x[i]))
                        .isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }
}
