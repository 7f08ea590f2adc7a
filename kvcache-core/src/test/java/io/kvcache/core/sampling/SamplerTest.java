package io.kvcache.core.sampling;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SamplerTest {
    private static final float[] LOGITS = {1f, 3f, 2f, 0f, 2.5f};

    private static int[] histogram(SamplingParams params, int draws) {
        Sampler sampler = new Sampler(params);
        int[] counts = new int[LOGITS.length];
        for (int i = 0; i < draws; i++) {
            counts[sampler.sample(LOGITS.clone(), 0, LOGITS.length, new int[0], 0)]++;
        }
        return counts;
    }

    @Test
    void greedyPicksTheLargestLogitAndTheLowestIdOnATie() {
        assertThat(new Sampler(SamplingParams.greedy(1)).sample(LOGITS.clone(), 0, 5, new int[0], 0)).isEqualTo(1);
        assertThat(Sampler.argmax(new float[] {0f, 2f, 2f}, 0, 3)).isEqualTo(1);
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        int draws = 40_000;
        int[] counts = histogram(SamplingParams.greedy(1).withTemperature(1f).withTopK(0).withTopP(1f), draws);
        double z = 0;
        for (float l : LOGITS) {
            z += Math.exp(l);
        }
        for (int i = 0; i < LOGITS.length; i++) {
            assertThat(counts[i] / (double) draws).as("token " + i).isCloseTo(Math.exp(LOGITS[i]) / z, within(0.01));
        }
    }

    @Test
    void topKTopPAndMinPKeepOnlyTheirTokens() {
        SamplingParams base = SamplingParams.greedy(1).withTemperature(1f).withTopK(0).withTopP(1f);
        int[] topK = histogram(base.withTopK(2), 5000);
        assertThat(topK[0] + topK[2] + topK[3]).isZero();
        assertThat(topK[1]).isGreaterThan(topK[4]).isPositive();
        // softmax of {3, 2.5, 2, 1, 0}: 0.464, 0.281, 0.171, 0.063, 0.023 -> top-p 0.7 keeps ids 1 and 4
        int[] topP = histogram(base.withTopP(0.7f), 5000);
        assertThat(topP[0] + topP[2] + topP[3]).isZero();
        // min-p 0.5 keeps tokens with p >= 0.232: ids 1 and 4
        int[] minP = histogram(base.withMinP(0.5f), 5000);
        assertThat(minP[0] + minP[2] + minP[3]).isZero();
        assertThat(minP[1]).isGreaterThan(minP[4]).isPositive();
    }

    @Test
    void sameSeedSameTokens() {
        SamplingParams p = SamplingParams.greedy(1).withTemperature(0.8f).withSeed(1234);
        assertThat(histogram(p, 200)).containsExactly(histogram(p, 200));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] logits = {2f, -1f, 3f};
        Sampler sampler = new Sampler(SamplingParams.greedy(1).withRepetitionPenalty(2f));
        int chosen = sampler.sample(logits, 0, 3, new int[] {2, 1, 2}, 3);
        assertThat(logits).containsExactly(2f, -2f, 1.5f);
        assertThat(chosen).isZero();
    }

    @Test
    void topKAmongEqualLogitsKeepsTheLowestIds() {
        // Ids 1, 2 and 3 tie: the order is a stable sort by logit, so top-2 keeps ids 1 and 2, never 3.
        float[] logits = {1f, 5f, 5f, 5f, -0f, 0f};
        Sampler sampler = new Sampler(SamplingParams.greedy(1).withTemperature(1f).withTopK(2).withTopP(1f));
        int[] counts = new int[logits.length];
        for (int i = 0; i < 4000; i++) {
            counts[sampler.sample(logits.clone(), 0, logits.length, new int[0], 0)]++;
        }
        assertThat(counts[0] + counts[3] + counts[4] + counts[5]).isZero();
        assertThat(counts[1]).isPositive();
        assertThat(counts[2]).isPositive();
    }

    @Test
    void theRepetitionPenaltyOfOneCallDoesNotCarryIntoTheNext() {
        Sampler sampler = new Sampler(SamplingParams.greedy(1).withRepetitionPenalty(2f));
        sampler.sample(new float[] {2f, -1f, 3f}, 0, 3, new int[] {2, 1}, 2);
        float[] logits = {2f, -1f, 3f};
        sampler.sample(logits, 0, 3, new int[] {0}, 1);
        assertThat(logits).containsExactly(1f, -1f, 3f);
    }

    @Test
    void invalidSettingsAreRejectedByName() {
        assertThatThrownBy(() -> SamplingParams.greedy(1).withTopP(0f)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> SamplingParams.greedy(1).withTemperature(-1f)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> SamplingParams.greedy(1).withStop(List.of(""))).hasMessageContaining("stop");
    }
}
