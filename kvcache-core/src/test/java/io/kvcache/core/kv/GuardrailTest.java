package io.kvcache.core.kv;

import io.kvcache.core.model.Architecture;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.RopeStyle;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The quality guardrail on hand-built caches: exposure from hand-picked attention, the moving mean, the moves and their accounting. */
class GuardrailTest {
    private static final int DIM = 4;
    private static final TokenClasses CLASSES = TokenClasses.ordinary(16);

    private static ModelConfig model(int layers, int kvHeads) {
        return new ModelConfig("test", Architecture.LLAMA, 16, layers, kvHeads, kvHeads, DIM, DIM, 32, 16, 4096,
                1e-5f, 10000f, DIM, RopeStyle.INTERLEAVED);
    }

    /** window: sinks 0-1 and 3 recent tokens; the guardrail moves above 0.25, at most half the heads. */
    private static KvCache guardedWindow(int kvHeads) {
        return new KvCache(model(1, kvHeads), 4096, KvCacheConfig.parse("window", Map.of("sinks", "2", "window.recent", "3",
                "guardrail.enabled", "true", "guardrail.threshold", "0.25", "guardrail.max-heads", "0.5")), CLASSES);
    }

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

    @Test
    void exposureIsTheShareOnCompressedEntriesAndBesideEvictedOnes() {
        HeadCache head = new HeadCache(DIM, DIM, new StorageLayout(16, 4, 4, false, false, true, false, 0, 16, 0));
        float[] row = {1, 2, 3, 4};
        head.lowPrecision().append(4, row, 0, row, 0, 0f, 0f);
        head.lowPrecision().append(5, row, 0, row, 0, 0f, 0f);
        for (int position : new int[] {0, 1, 2, 3, 6, 7}) {
            head.append(position, row, 0, row, 0);
        }
        // attention order: low-precision 4, 5, then kept 0, 1, 2, 3, 6 (after a gap), 7
        head.addAttention(new float[] {0.2f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.25f, 0.15f}, 8);
        // exposed: 0.2 + 0.1 (low precision) + 0.25 (position 6 follows 3) of 1.1 paid
        assertThat(head.takeExposure()).isCloseTo(0.55 / 1.1, within(1e-6));
        assertThat(head.takeExposure()).isNaN();
        assertThat(head.lowPrecision().attention(0)).isEqualTo(0.2f);
    }

    @Test
    void aHeadMovesOnceItsMovingMeanStaysAboveTheThresholdAndNoMoreHeadsThanAllowed() {
        KvCache cache = guardedWindow(3);
        assertThat(cache.head(0, 0).layout().tracksAttention()).as("the guardrail reads what each entry receives").isTrue();
        append(cache, 10);
        // the prompt's call is not watched
        cache.head(0, 0).addAttention(new float[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 10);
        cache.compact();
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0, 1, 7, 8, 9);
        assertThat(cache.watchedCalls(0, 0)).isZero();
        // per decode call, six entries: sinks 0-1, then the oldest recent one after the evicted gap, then three more
        float[][] received = {
                {0.1f, 0.1f, 0.4f, 0.2f, 0.1f, 0.1f},
                {0.2f, 0.2f, 0.3f, 0.1f, 0.1f, 0.1f},
                {0.3f, 0.3f, 0.1f, 0.1f, 0.1f, 0.1f}};
        float[] quiet = {0.5f, 0.1f, 0.0f, 0.2f, 0.1f, 0.1f};
        float mean0 = 0;
        for (int call = 1; call <= 8; call++) {
            append(cache, 1);
            for (int h = 0; h < 3; h++) {
                cache.head(0, h).addAttention(call == 2 && h == 0 ? quiet : received[h], 6);
            }
            cache.compact();
            float share = call == 2 ? 0f : 0.4f;
            mean0 = call == 1 ? share : mean0 + 0.125f * (share - mean0);
            assertThat(cache.exposure(0, 0)).as("call " + call).isCloseTo(mean0, within(1e-6f));
            assertThat(cache.watchedCalls(0, 0)).isEqualTo(call);
            if (call < 8) {
                assertThat(cache.memory().guardrailMoves()).as("call " + call).isZero();
            }
        }
        assertThat(mean0).as("hand-computed: 0.4, then 0.35 after the quiet call, rising again").isBetween(0.25f, 0.4f);
        assertThat(cache.exposure(0, 1)).isCloseTo(0.3f, within(1e-6f));
        assertThat(cache.exposure(0, 2)).isCloseTo(0.1f, within(1e-6f));
        // heads 0 and 1 are above 0.25, but half of 3 heads rounds down to one move
        assertThat(cache.headPolicy(0, 0)).isEqualTo(Guardrail.MOVED);
        assertThat(cache.headPolicy(0, 1).name()).isEqualTo("window");
        assertThat(cache.headPolicy(0, 2).name()).isEqualTo("window");
        KvMemoryReport memory = cache.memory();
        assertThat(memory.heads()).extracting(HeadMemory::moves).containsExactly(1, 0, 0);
        assertThat(memory.heads().get(0).policy()).isEqualTo("full (guardrail)");
        assertThat(memory.guardrailMoves()).isEqualTo(1);
        // the moved head kept its eighth call's entries and keeps everything after; the others still slide
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0, 1, 14, 15, 16, 17);
        append(cache, 2);
        cache.compact();
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0, 1, 14, 15, 16, 17, 18, 19);
        assertThat(keptPositions(cache.head(0, 1))).containsExactly(0, 1, 17, 18, 19);
        // held bytes are the heads' sum, each head its entries at 4 + 2 * 8 bytes (attention, fp16 rows)
        // and its two runs of positions (sinks, then the rest) at 8 bytes each
        assertThat(memory.bytesHeld()).isEqualTo(memory.heads().stream().mapToLong(HeadMemory::bytesHeld).sum());
        assertThat(cache.memory().heads().get(0).bytesHeld()).isEqualTo(8 * 20L + 2 * 8);
        assertThat(cache.memory().heads().get(1).bytesHeld()).isEqualTo(5 * 20L + 2 * 8);
    }

    @Test
    void aSequenceStartedAgainForgetsItsMoves() {
        KvCache cache = guardedWindow(2);
        append(cache, 10);
        cache.compact();
        for (int call = 0; call < Guardrail.WARMUP; call++) {
            append(cache, 1);
            cache.head(0, 0).addAttention(new float[] {0.1f, 0.1f, 0.6f, 0.1f, 0.05f, 0.05f}, 6);
            cache.compact();
        }
        assertThat(cache.moved(0, 0)).isTrue();
        KvCache copy = cache.copy();
        cache.truncate(0);
        assertThat(cache.moved(0, 0)).isFalse();
        assertThat(cache.headPolicy(0, 0).name()).isEqualTo("window");
        assertThat(cache.watchedCalls(0, 0)).isZero();
        assertThat(copy.moved(0, 0)).as("a copy keeps its own watch").isTrue();
        assertThat(copy.exposure(0, 0)).isCloseTo(0.6f, within(1e-6f));
    }

    @Test
    void theFootprintCountsTheMovableHeadsAsHoldingEveryToken() {
        ModelConfig model = model(2, 2);
        KvCacheConfig guarded = KvCacheConfig.parse("window", Map.of("sinks", "2", "window.recent", "3",
                "guardrail.enabled", "true", "guardrail.max-heads", "0.5"));
        // 4 heads; per entry 4 (attention) + 8 + 8 (fp16 rows of 4) = 20 bytes, and per head at most
        // two runs of positions (sinks, recent) at 8 bytes each. At 10 tokens a window head holds 5
        // entries; half the heads (2) may hold all 10.
        assertThat(new KvFootprint(model, guarded).bytesAt(10)).isEqualTo(2 * (5 * 20L + 16) + 2 * (10 * 20L + 16));
        // unwatched, the window neither tracks attention (16 bytes an entry) nor moves
        assertThat(new KvFootprint(model, guarded.withGuardrail(Guardrail.OFF)).bytesAt(10)).isEqualTo(4 * (5 * 16L + 16));
        // the full policy has nothing to watch; its positions are one run
        assertThat(new KvFootprint(model, KvCacheConfig.full().withGuardrail(Guardrail.DEFAULT_ON)).bytesAt(10))
                .isEqualTo(4 * (10 * 16L + 8));
    }

    @Test
    void settingsReadBackAndBadValuesNameTheProperty() {
        KvCacheConfig config = KvCacheConfig.parse("mixed-precision", Map.of("guardrail.enabled", "true",
                "guardrail.threshold", "0.3"));
        assertThat(config.guardrail()).isEqualTo(Guardrail.DEFAULT_ON.withThreshold(0.3));
        Map<String, String> described = new java.util.LinkedHashMap<>(config.describe());
        assertThat(described).containsEntry("guardrail.threshold", "0.3").containsEntry("guardrail.max-heads", "0.25");
        String policy = described.remove("policy");
        assertThat(KvCacheConfig.parse(policy, described)).isEqualTo(config);
        assertThat(KvCacheConfig.parse("window", Map.of()).describe()).doesNotContainKey("guardrail.enabled");
        assertThat(config.headPolicies()).endsWith(Guardrail.MOVED);
        assertThatThrownBy(() -> KvCacheConfig.parse("window", Map.of("guardrail.threshold", "1.5")))
                .hasMessageContaining("kvcache.guardrail.threshold").hasMessageContaining("from 0 to 1");
        assertThatThrownBy(() -> KvCacheConfig.parse("window", Map.of("guardrail.enabled", "yes")))
                .hasMessageContaining("kvcache.guardrail.enabled");
    }
}
