package io.kvcache.core.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** YaRN's ramp and factors and the query temperature, on values worked out by hand from their formulas. */
class YarnRopeTest {

    @Test
    void rampCoversThePairsBetweenTheBetas() {
        // 32 dims, original context 64, base 10000: the beta-32 pair is 32 ln(64 / 64pi) / (2 ln 10000) = -1.99,
        // floored to -2 and clamped to 0; the beta-1 pair 32 ln(64 / 2pi) / 18.42 = 4.03, rounded up to 5.
        float[] ramp = new YarnRope(32f, 1f, 64).rampDims(32, 10000f);
        assertThat(ramp).containsExactly(0f, 5f);
        assertThat(YarnRope.extrapolation(ramp, 0)).isEqualTo(1f);
        assertThat(YarnRope.extrapolation(ramp, 2)).isCloseTo(0.6f, within(1e-7f));
        assertThat(YarnRope.extrapolation(ramp, 5)).isEqualTo(0f);
        assertThat(YarnRope.extrapolation(ramp, 15)).isEqualTo(0f);
    }

    @Test
    void magnitudeAndAttentionFactorCancelWithALogMultiplierOfOne() {
        // Factor 4: magnitude 1 + 0.1 ln 4 = 1.1386294; with multiplier 1 the attention factor is its inverse.
        assertThat(YarnRope.magnitude(0.25f)).isCloseTo(1.1386294f, within(1e-6f));
        assertThat(YarnRope.attentionFactor(0.25f, 1f, 1f) * YarnRope.magnitude(0.25f)).isCloseTo(1f, within(1e-6f));
        // Without a multiplier llama.cpp keeps mscale(4, 1) = 1.1386294, then divides by the magnitude: 1.
        assertThat(YarnRope.attentionFactor(0.25f, 0f, 2f)).isCloseTo(2f, within(1e-6f));
    }

    @Test
    void temperatureStepsAtEachMultipleOfTheOriginalContext() {
        QueryTemperature t = new QueryTemperature(0.1f, 64);
        assertThat(t.factor(0)).isEqualTo(1f);
        assertThat(t.factor(63)).isEqualTo(1f);
        assertThat(t.factor(64)).isCloseTo(1.0693147f, within(1e-7f)); // 1 + 0.1 ln 2
        assertThat(t.factor(200)).isCloseTo(1.1386294f, within(1e-7f)); // floor(200/64) = 3: 1 + 0.1 ln 4
    }
}
