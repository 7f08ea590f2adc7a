package io.kvcache.core.kv;

import io.kvcache.core.model.Architecture;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.RopeStyle;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Per-head budgets under one layer budget (Ada-KV) on hand-built caches: which entries each head
 * keeps for known scores, and that a layer keeps what its heads keep together under uniform
 * budgets, step after step.
 */
class BudgetAllocationTest {
    private static final int DIM = 4;
    private static final TokenClasses CLASSES = TokenClasses.ordinary(16);

    private static KvCache cache(int kvHeads, String policy, Map<String, String> settings) {
        ModelConfig config = new ModelConfig("test", Architecture.LLAMA, 16, 1, kvHeads, kvHeads, DIM, DIM, 32, 16, 4096,
                1e-5f, 10000f, DIM, RopeStyle.INTERLEAVED);
        return new KvCache(config, 4096, KvCacheConfig.parse(policy, settings), CLASSES);
    }

    /** Appends {@code count} ordinary tokens to every head. */
    private static void append(KvCache cache, int count) {
        for (int i = 0; i < count; i++) {
            int position = cache.length();
            cache.advance(5);
            float[] row = {position, 1, 2, 3};
            for (int h = 0; h < cache.kvHeads(); h++) {
                cache.head(0, h).append(position, row, 0, row, 0);
            }
        }
    }

    private static int[] keptPositions(HeadCache head) {
        return IntStream.range(0, head.kept().size()).map(head.kept()::position).toArray();
    }

    private static Map<String, String> heavyHitter(String allocation) {
        return Map.of("sinks", "1", "heavy-hitter.recent-ratio", "0.2", "heavy-hitter.heavy-ratio", "0.2",
                "heavy-hitter.budget-allocation", allocation);
    }

    /**
     * Ten tokens, two heads: sink 0 and recent 8-9 (ceil(0.2 * 10)) are each head's, and 2 heavy
     * hitters a head (ceil(0.2 * 10)), 4 for the layer. Head 0's attention is concentrated on
     * position 3 (9 of it), head 1's spread over 1, 2, 4 and 6 (3, 3, 2, 1): uniform budgets keep 3
     * and 5 in head 0 (0.5 beats the zeros) and 1 and 2 in head 1; the pooled top 4 are 3 of head
     * 0 (9) and 1, 2, 4 of head 1 (3, 3, 2), so head 0 keeps 4 entries and head 1 keeps 6.
     */
    @Test
    void aConcentratedHeadGivesItsBudgetToADiffuseOne() {
        float[] concentrated = new float[10];
        concentrated[3] = 9;
        concentrated[5] = 0.5f;
        float[] diffuse = new float[10];
        diffuse[1] = 3;
        diffuse[2] = 3;
        diffuse[4] = 2;
        diffuse[6] = 1;

        KvCache uniform = cache(2, "heavy-hitter", heavyHitter("uniform"));
        append(uniform, 10);
        uniform.head(0, 0).addAttention(concentrated, 10);
        uniform.head(0, 1).addAttention(diffuse, 10);
        uniform.compact();
        assertThat(keptPositions(uniform.head(0, 0))).containsExactly(0, 3, 5, 8, 9);
        assertThat(keptPositions(uniform.head(0, 1))).containsExactly(0, 1, 2, 8, 9);

        KvCache adaptive = cache(2, "heavy-hitter", heavyHitter("adaptive"));
        append(adaptive, 10);
        adaptive.head(0, 0).addAttention(concentrated, 10);
        adaptive.head(0, 1).addAttention(diffuse, 10);
        adaptive.compact();
        assertThat(keptPositions(adaptive.head(0, 0))).containsExactly(0, 3, 8, 9);
        assertThat(keptPositions(adaptive.head(0, 1))).containsExactly(0, 1, 2, 4, 8, 9);
        assertThat(adaptive.memory().bytesHeld()).isEqualTo(uniform.memory().bytesHeld());
        assertThat(adaptive.memory().heads()).extracting(HeadMemory::entries).containsExactly(4, 6);
    }

    /** Equal scores go to the earlier head, then the earlier entry: with no attention at all, head 0 takes the whole budget. */
    @Test
    void tiesGoToTheEarlierHeadThenTheEarlierEntry() {
        KvCache cache = cache(2, "heavy-hitter", heavyHitter("adaptive"));
        append(cache, 10);
        cache.compact();
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0, 1, 2, 3, 4, 8, 9);
        assertThat(keptPositions(cache.head(0, 1))).containsExactly(0, 8, 9);
    }

    /**
     * Mixed-precision shares its heavy hitters the same way and demotes the rest. Important 0.2 is
     * recent 0.1 and heavy 0.1 of 10 tokens: recent 9 and one heavy hitter a head, 2 for the
     * layer. Head 0's best candidate scores 1, head 1's 3 and 2: both go to head 1, so head 0
     * keeps 2 entries as computed (sink and recent) and head 1 keeps 4, the others in low precision.
     */
    @Test
    void mixedPrecisionSharesItsHeavyHittersAndDemotesTheRest() {
        float[] concentrated = new float[10];
        concentrated[3] = 1;
        float[] diffuse = new float[10];
        diffuse[1] = 3;
        diffuse[2] = 2;
        KvCache cache = cache(2, "mixed-precision", Map.of("sinks", "1", "mixed-precision.important-ratio", "0.2",
                "mixed-precision.balance-keys", "false", "mixed-precision.group-size", "4",
                "mixed-precision.budget-allocation", "adaptive"));
        append(cache, 10);
        cache.head(0, 0).addAttention(concentrated, 10);
        cache.head(0, 1).addAttention(diffuse, 10);
        cache.compact();
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0, 9);
        assertThat(keptPositions(cache.head(0, 1))).containsExactly(0, 1, 2, 9);
        assertThat(cache.head(0, 0).lowPrecisionEntries()).isEqualTo(8);
        assertThat(cache.head(0, 1).lowPrecisionEntries()).isEqualTo(6);
    }

    /**
     * Four heads, a 20-token prompt then 300 tokens decoded, each head's attention spread over a
     * different share of its entries: after the prompt the layer keeps exactly 4 x
     * {@link KvPolicy#entriesAt}, and after every step exactly what four uniform heads decoding
     * alongside keep together, bytes included, though not the same in each head.
     */
    @Test
    void theLayerKeepsExactlyWhatUniformHeadsKeepTogether() {
        Map<String, String> shares = Map.of("heavy-hitter.recent-ratio", "0.05", "heavy-hitter.heavy-ratio", "0.1");
        Map<String, String> pooled = new java.util.HashMap<>(shares);
        pooled.put("heavy-hitter.budget-allocation", "adaptive");
        KvCache adaptive = cache(4, "heavy-hitter", pooled);
        KvCache uniform = cache(4, "heavy-hitter", shares);
        KvPolicy policy = adaptive.config().policy();
        Random random = new Random(17);
        boolean uneven = false;
        for (int step = 0; step < 300; step++) {
            for (KvCache cache : new KvCache[] {adaptive, uniform}) {
                append(cache, step == 0 ? 20 : 1);
                for (int h = 0; h < 4; h++) {
                    HeadCache head = cache.head(0, h);
                    float[] received = new float[head.kept().size()];
                    // head h spreads its attention over h + 1 entries of every ten
                    for (int e = 0; e < received.length; e++) {
                        received[e] = e % 10 <= h ? random.nextFloat() : 0f;
                    }
                    head.addAttention(received, received.length);
                }
                cache.compact();
            }
            int perHead = policy.entriesAt(adaptive.length()).kept();
            int total = 0;
            for (int h = 0; h < 4; h++) {
                total += adaptive.head(0, h).keptEntries();
                uneven |= adaptive.head(0, h).keptEntries() != uniform.head(0, h).keptEntries();
            }
            assertThat(total).as("entries of the layer at " + adaptive.length())
                    .isEqualTo(uniform.memory().heads().stream().mapToInt(HeadMemory::entries).sum())
                    .isLessThanOrEqualTo(4 * perHead);
            if (step == 0) {
                assertThat(total).isEqualTo(4 * perHead);
            }
            assertThat(adaptive.memory().bytesHeld()).as("bytes at " + adaptive.length())
                    .isEqualTo(uniform.memory().bytesHeld());
        }
        assertThat(uneven).as("the heads' budgets followed their attention").isTrue();
    }

    @Test
    void theSettingIsReadAndWrittenByName() {
        assertThat(KvCacheConfig.parse("heavy-hitter", Map.of("heavy-hitter.budget-allocation", "adaptive")).describe())
                .containsEntry("heavy-hitter.budget-allocation", "adaptive");
        assertThat(KvCacheConfig.parse("mixed-precision", Map.of()).describe())
                .containsEntry("mixed-precision.budget-allocation", "uniform");
        assertThatThrownBy(() -> KvCacheConfig.parse("window", Map.of("heavy-hitter.budget-allocation", "pooled")))
                .hasMessageContaining("kvcache.heavy-hitter.budget-allocation")
                .hasMessageContaining("'pooled'")
                .hasMessageContaining("uniform, adaptive");
    }
}
