package io.kvcache.spring;

import io.kvcache.core.SharedData;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.generate.SamplingParams;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvPolicy;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.model.Transformer;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The footprint against real caches: TinyStories-656K (2 layers, 4 KV heads of 16 dimensions)
 * evaluating real text, whose caches the core accounts for as they are.
 */
class KvFootprintTest {
    private static Model model;
    private static ComputePool pool;
    private static Transformer transformer;
    private static TokenClasses classes;
    private static int[] text;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        pool = new ComputePool(2);
        transformer = new Transformer(model, pool);
        classes = TokenClasses.of(model.tokenizer());
        text = model.tokenizer().encode(Files.readString(SharedData.require("eval/tinystories-eval.txt")), true, false);
        assertThat(text.length).isGreaterThan(512);
    }

    @AfterAll
    static void close() {
        pool.close();
        model.close();
    }

    private static KvPolicy policy(String name) {
        return KvPolicy.parse(name, Map.of());
    }

    /** Per token the full cache holds, in each of 2 layers x 4 KV heads, a position (4 bytes) and fp16 key and value rows of 16. */
    @Test
    void theFullCacheHoldsTheHandCountedBytes() {
        KvFootprint footprint = new KvFootprint(model.config(), KvPolicy.full(), classes);
        for (int tokens : new int[] {1, 2, 100, 512}) {
            assertThat(footprint.bytesAt(tokens)).isEqualTo(tokens * 8L * (4 + 2 * 16 + 2 * 16));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "window", "heavy-hitter", "mixed-precision", "span", "layer-condensed"})
    void aPromptOfThatLengthHoldsExactlyTheFootprint(String name) {
        KvPolicy policy = policy(name);
        KvFootprint footprint = new KvFootprint(model.config(), policy, classes);
        for (int tokens : new int[] {1, 5, 77, 200, 512}) {
            KvCache cache = new KvCache(model.config(), tokens, policy, classes);
            transformer.forward(cache, text, 0, tokens, Transformer.Logits.LAST);
            assertThat(footprint.bytesAt(tokens)).as(name + " at " + tokens).isEqualTo(cache.memory().bytesHeld());
        }
    }

    /** Adaptive heads choose by the prompt's attention; none keeps more than every entry, which the footprint counts. */
    @Test
    void adaptiveHoldsAtMostTheFootprint() {
        for (String evicted : new String[] {"drop", "low-precision"}) {
            KvPolicy policy = KvPolicy.parse("adaptive", Map.of("adaptive.evicted", evicted));
            KvFootprint footprint = new KvFootprint(model.config(), policy, classes);
            KvCache cache = new KvCache(model.config(), 300, policy, classes);
            transformer.forward(cache, text, 0, 300, Transformer.Logits.LAST);
            assertThat(cache.memory().bytesHeld()).as(evicted).isPositive().isLessThanOrEqualTo(footprint.bytesAt(300));
        }
    }

    /** The peak against every length on the way, counted one by one. */
    @ParameterizedTest
    @ValueSource(strings = {"full", "window", "heavy-hitter", "mixed-precision", "span", "adaptive", "layer-condensed"})
    void thePeakIsTheLargestOfEveryLengthOnTheWay(String name) {
        KvFootprint footprint = new KvFootprint(model.config(), policy(name), classes);
        long largest = 0;
        for (int tokens = 1; tokens <= 512; tokens++) {
            largest = Math.max(largest, footprint.bytesAt(tokens));
            assertThat(footprint.peakUpTo(tokens)).as(name + " at " + tokens).isEqualTo(largest);
        }
    }

    /** A conversation that grows by decoding, token after token, holds at most what a prompt of its length holds. */
    @ParameterizedTest
    @ValueSource(strings = {"full", "window", "heavy-hitter", "mixed-precision", "span", "adaptive", "layer-condensed"})
    void decodingNeverHoldsMoreThanTheFootprint(String name) {
        KvPolicy policy = policy(name);
        KvFootprint footprint = new KvFootprint(model.config(), policy, classes);
        KvCache cache = new KvCache(model.config(), 400, policy, classes);
        Generator generator = new Generator(model, transformer);
        generator.generate(cache, java.util.Arrays.copyOf(text, 40), SamplingParams.greedy(360), 0, step -> {
            assertThat(cache.memory().bytesHeld()).as(name + " at " + cache.length())
                    .isLessThanOrEqualTo(footprint.bytesAt(cache.length()));
            return true;
        });
        assertThat(cache.length()).isGreaterThan(100);
    }
}
