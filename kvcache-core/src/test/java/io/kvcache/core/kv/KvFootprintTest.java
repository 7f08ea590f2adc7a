package io.kvcache.core.kv;

import io.kvcache.core.TinyStoriesOnCpu;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The computed footprint against real caches: TinyStories-656K (2 layers, 4 KV heads of 16
 * dimensions) evaluating real text, whose caches account for the arrays they hold.
 */
class KvFootprintTest {
    private static TinyStoriesOnCpu tiny;
    private static Model model;
    private static CpuForwardPass transformer;
    private static TokenClasses classes;
    private static int[] text;

    @BeforeAll
    static void load() throws Exception {
        tiny = TinyStoriesOnCpu.open();
        model = tiny.model();
        transformer = tiny.forwardPass();
        classes = tiny.classes();
        text = tiny.text();
        assertThat(text.length).isGreaterThan(512);
    }

    @AfterAll
    static void close() {
        tiny.close();
    }

    /** A policy by name with its defaults; names with a colon carry non-default settings. */
    private static KvCacheConfig policy(String name) {
        return switch (name) {
            case "mixed-precision:8/3" -> KvCacheConfig.of(MixedPrecisionPolicy.DEFAULT
                    .withLowPrecision(new LowPrecision(3, 8, false))).withKvType(KvType.Q8);
            case "full:q4" -> KvCacheConfig.full().withKvType(KvType.Q4);
            case "full:q3/0" -> KvCacheConfig.full().withKvType(KvType.Q3).withKvResidual(0);
            case "full:q4/8:e5m3" -> KvCacheConfig.full().withKvType(KvType.Q4).withKvResidual(8).withKvScale(KvScale.E5M3);
            case "heavy-hitter:q4:e5m3" -> KvCacheConfig.of(HeavyHitterPolicy.DEFAULT).withKvType(KvType.Q4).withKvScale(KvScale.E5M3);
            case "window:q2" -> KvCacheConfig.of(WindowPolicy.DEFAULT.withRecent(50)).withKvType(KvType.Q2);
            case "heavy-hitter:q3" -> KvCacheConfig.of(HeavyHitterPolicy.DEFAULT).withKvType(KvType.Q3);
            case "mixed-precision:q4/2" -> KvCacheConfig.of(MixedPrecisionPolicy.DEFAULT
                    .withLowPrecision(new LowPrecision(2, 16, true))).withKvType(KvType.Q4);
            case "span:q4" -> KvCacheConfig.of(SpanPolicy.DEFAULT).withKvType(KvType.Q4);
            case "span:16/2" -> KvCacheConfig.of(SpanPolicy.DEFAULT.withLength(16).withEntries(2).withRecent(20));
            case "window:guarded" -> KvCacheConfig.of(WindowPolicy.DEFAULT.withRecent(16))
                    .withGuardrail(Guardrail.DEFAULT_ON.withThreshold(0.02));
            case "span:guarded" -> KvCacheConfig.of(SpanPolicy.DEFAULT.withRecent(16).withLength(4))
                    .withGuardrail(Guardrail.DEFAULT_ON.withThreshold(0.1).withMaxHeads(0.5));
            case "mixed-precision:guarded" -> KvCacheConfig.of(MixedPrecisionPolicy.DEFAULT.withLowPrecision(new LowPrecision(2, 8, true)))
                    .withGuardrail(Guardrail.DEFAULT_ON.withThreshold(0.5).withMaxHeads(1));
            case "span:q4:guarded" -> KvCacheConfig.of(SpanPolicy.DEFAULT.withRecent(16).withLength(4)).withKvType(KvType.Q4)
                    .withGuardrail(Guardrail.DEFAULT_ON.withThreshold(0.1).withMaxHeads(0.5));
            case "mixed-precision:q4:guarded" -> KvCacheConfig.of(MixedPrecisionPolicy.DEFAULT
                    .withLowPrecision(new LowPrecision(2, 8, true))).withKvType(KvType.Q4)
                    .withGuardrail(Guardrail.DEFAULT_ON.withThreshold(0.5).withMaxHeads(1));
            case "heavy-hitter:adaptive" -> KvCacheConfig.of(HeavyHitterPolicy.DEFAULT.withBudgetAllocation(BudgetAllocation.ADAPTIVE));
            case "heavy-hitter:q4:adaptive" -> KvCacheConfig.of(HeavyHitterPolicy.DEFAULT.withBudgetAllocation(BudgetAllocation.ADAPTIVE))
                    .withKvType(KvType.Q4);
            case "heavy-hitter:adaptive:guarded" -> KvCacheConfig.of(HeavyHitterPolicy.DEFAULT
                    .withBudgetAllocation(BudgetAllocation.ADAPTIVE).withRecentRatio(0.05).withHeavyRatio(0.05))
                    .withGuardrail(Guardrail.DEFAULT_ON.withThreshold(0.05).withMaxHeads(0.5));
            case "mixed-precision:adaptive" -> KvCacheConfig.of(MixedPrecisionPolicy.DEFAULT
                    .withBudgetAllocation(BudgetAllocation.ADAPTIVE));
            case "mixed-precision:q4/2:adaptive" -> KvCacheConfig.of(MixedPrecisionPolicy.DEFAULT
                    .withLowPrecision(new LowPrecision(2, 16, true)).withBudgetAllocation(BudgetAllocation.ADAPTIVE))
                    .withKvType(KvType.Q4);
            case "window:shared" -> KvCacheConfig.of(WindowPolicy.DEFAULT.withRecent(50))
                    .withLayerSharing(LayerSharing.ADJACENT_PAIRS);
            default -> KvCacheConfig.parse(name, Map.of());
        };
    }

    /**
     * Per token the full cache holds, in each of 2 layers x 4 KV heads, fp16 key and value rows of
     * 16; each head's positions are one run (8 bytes).
     */
    @Test
    void theFullCacheHoldsTheHandCountedBytes() {
        KvFootprint footprint = new KvFootprint(model.config(), KvCacheConfig.full());
        for (int tokens : new int[] {1, 2, 100, 512}) {
            assertThat(footprint.bytesAt(tokens)).isEqualTo(tokens * 8L * (2 * 16 + 2 * 16) + 8 * 8);
        }
    }

    /**
     * q4 rows of 16 values are one group: an fp16 scale (2 bytes) and 16 four-bit codes (8 bytes);
     * 20 bytes an entry where fp16 takes 64, and a run of positions per head. With a residual, the
     * latest 32 entries take 68.
     */
    @Test
    void aQ4CacheHoldsTheHandCountedBytes() {
        KvFootprint bare = new KvFootprint(model.config(), KvCacheConfig.full().withKvType(KvType.Q4).withKvResidual(0));
        KvFootprint residual = new KvFootprint(model.config(), KvCacheConfig.full().withKvType(KvType.Q4));
        for (int tokens : new int[] {1, 2, 100, 512}) {
            assertThat(bare.bytesAt(tokens)).isEqualTo(tokens * 8L * (2 * (2 + 8)) + 8 * 8);
            int fp16 = Math.min(32, tokens);
            assertThat(residual.bytesAt(tokens)).isEqualTo(8L * ((tokens - fp16) * 20L + fp16 * 64L + 8));
        }
    }

    /**
     * With e5m3 scales a q4 row of 16 values is a 1-byte scale and 8 code bytes: 18 bytes an entry,
     * 28.1% of fp16's 64; with a residual of 8 the latest 8 entries take 64.
     */
    @Test
    void aQ4CacheWithE5m3ScalesHoldsTheHandCountedBytes() {
        KvFootprint compact = new KvFootprint(model.config(),
                KvCacheConfig.full().withKvType(KvType.Q4).withKvResidual(8).withKvScale(KvScale.E5M3));
        for (int tokens : new int[] {1, 2, 100, 512}) {
            int fp16 = Math.min(8, tokens);
            assertThat(compact.bytesAt(tokens)).isEqualTo(8L * ((tokens - fp16) * 18L + fp16 * 64L + 8));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "window", "heavy-hitter", "mixed-precision", "span", "layer-condensed",
            "mixed-precision:8/3", "span:16/2", "window:shared", "full:q4", "full:q3/0", "full:q4/8:e5m3", "heavy-hitter:q4:e5m3", "window:q2", "heavy-hitter:q3",
            "mixed-precision:q4/2", "span:q4", "heavy-hitter:adaptive", "mixed-precision:adaptive",
            "mixed-precision:q4/2:adaptive"})
    void aPromptOfThatLengthHoldsExactlyTheFootprint(String name) {
        KvCacheConfig policy = policy(name);
        KvFootprint footprint = new KvFootprint(model.config(), policy);
        for (int tokens : new int[] {1, 5, 77, 200, 512}) {
            KvCache cache = new KvCache(model.config(), tokens, policy, classes);
            transformer.forward(cache, text, 0, tokens, ForwardPass.Logits.LAST);
            assertThat(footprint.bytesAt(tokens)).as(name + " at " + tokens).isEqualTo(cache.memory().bytesHeld());
        }
    }

    /**
     * Under adaptive budgets a quantized head holds its latest entries in fp16, the dearest, so a
     * head with fewer entries than the residual costs more per entry than one with more: the
     * layer's bytes are at most those of uniform heads, which the footprint counts.
     */
    @Test
    void adaptiveBudgetsOfAQuantizedCacheHoldAtMostTheFootprint() {
        KvCacheConfig policy = policy("heavy-hitter:q4:adaptive");
        KvFootprint footprint = new KvFootprint(model.config(), policy);
        for (int tokens : new int[] {1, 5, 77, 200, 512}) {
            KvCache cache = new KvCache(model.config(), tokens, policy, classes);
            transformer.forward(cache, text, 0, tokens, ForwardPass.Logits.LAST);
            assertThat(cache.memory().bytesHeld()).as("at " + tokens).isLessThanOrEqualTo(footprint.bytesAt(tokens));
        }
    }

    /** Adaptive heads choose by the prompt's attention; none keeps more than every entry, which the footprint counts. */
    @Test
    void adaptiveHoldsAtMostTheFootprint() {
        for (String evicted : new String[] {"drop", "low-precision"}) {
            KvCacheConfig policy = KvCacheConfig.parse("adaptive", Map.of("adaptive.evicted", evicted));
            KvFootprint footprint = new KvFootprint(model.config(), policy);
            KvCache cache = new KvCache(model.config(), 300, policy, classes);
            transformer.forward(cache, text, 0, 300, ForwardPass.Logits.LAST);
            assertThat(cache.memory().bytesHeld()).as(evicted).isPositive().isLessThanOrEqualTo(footprint.bytesAt(300));
        }
    }

    /** The peak against every length on the way, counted one by one. */
    @ParameterizedTest
    @ValueSource(strings = {"full", "window", "heavy-hitter", "mixed-precision", "span", "adaptive", "layer-condensed"})
    void thePeakIsTheLargestOfEveryLengthOnTheWay(String name) {
        KvFootprint footprint = new KvFootprint(model.config(), policy(name));
        long largest = 0;
        for (int tokens = 1; tokens <= 512; tokens++) {
            largest = Math.max(largest, footprint.bytesAt(tokens));
            assertThat(footprint.peakUpTo(tokens)).as(name + " at " + tokens).isEqualTo(largest);
        }
    }

    /** A conversation that grows by decoding, token after token, holds at most what a prompt of its length holds. */
    @ParameterizedTest
    @ValueSource(strings = {"full", "window", "heavy-hitter", "mixed-precision", "span", "adaptive", "layer-condensed",
            "mixed-precision:8/3", "span:16/2", "full:q4", "window:q2", "mixed-precision:q4/2", "span:q4",
            "full:q4/8:e5m3", "heavy-hitter:q4:e5m3",
            "window:guarded", "span:guarded", "mixed-precision:guarded", "span:q4:guarded", "mixed-precision:q4:guarded",
            "heavy-hitter:adaptive", "heavy-hitter:q4:adaptive", "heavy-hitter:adaptive:guarded", "mixed-precision:adaptive",
            "mixed-precision:q4/2:adaptive"})
    void decodingNeverHoldsMoreThanTheFootprint(String name) {
        KvCacheConfig policy = policy(name);
        KvFootprint footprint = new KvFootprint(model.config(), policy);
        KvCache cache = new KvCache(model.config(), 400, policy, classes);
        Generator generator = new Generator(model, transformer);
        generator.generate(cache, java.util.Arrays.copyOf(text, 40), SamplingParams.greedy(360), 0, step -> {
            assertThat(cache.memory().bytesHeld()).as(name + " at " + cache.length())
                    .isLessThanOrEqualTo(footprint.bytesAt(cache.length()));
            return true;
        });
        assertThat(cache.length()).as("decoded past every window and residual here").isGreaterThan(80);
        if (name.endsWith(":guarded")) {
            assertThat(cache.memory().guardrailMoves()).as(name + ": the guardrail moved heads").isPositive();
        }
    }
}
