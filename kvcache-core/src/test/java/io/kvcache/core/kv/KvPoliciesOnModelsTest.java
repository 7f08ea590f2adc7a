package io.kvcache.core.kv;

import io.kvcache.core.SharedData;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every policy end to end on the real tiny models: runs, holds what its settings imply, full is exact. */
class KvPoliciesOnModelsTest {
    private static final ComputePool POOL = new ComputePool(2);
    private static Model model;
    private static CpuForwardPass transformer;
    private static TokenClasses classes;
    private static int[] text;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        transformer = new CpuForwardPass(model, POOL);
        classes = TokenClasses.of(model.tokenizer());
        String story = java.nio.file.Files.readString(SharedData.require("eval/tinystories-eval.txt"));
        text = model.tokenizer().encode(story, true, false);
    }

    @AfterAll
    static void close() {
        model.close();
        POOL.close();
    }

    /** Prefills {@code prompt} tokens of the text, then decodes up to {@code length} one token at a time. */
    private static float[] run(KvCache cache, int prompt, int length) {
        float[] logits = transformer.forward(cache, text, 0, prompt, ForwardPass.Logits.LAST);
        for (int i = prompt; i < length; i++) {
            logits = transformer.forward(cache, text, i, 1, ForwardPass.Logits.LAST);
        }
        return logits;
    }

    private static KvCache cache(String policy, Map<String, String> settings) {
        return new KvCache(model.config(), 512, KvCacheConfig.parse(policy, settings), classes);
    }

    @Test
    void fullPolicyEqualsThePlainEngineExactly() {
        float[] plain = run(new KvCache(model.config(), 512), 100, 300);
        float[] full = run(cache("full", Map.of()), 100, 300);
        assertThat(full).containsExactly(plain);
    }

    /**
     * A quantized kv-type stores keys rotated and the forward pass rotates queries alike, so scores
     * are the fp16 cache's up to the codes' rounding: at 8 bits (half a step is 1/255 of a group's
     * largest magnitude) no logit moves by more than 0.25 (0.16 measured), so every decode step whose first two
     * tokens are further apart ranks the same first; a rotation applied to one side only would
     * scramble the scores.
     */
    @Test
    void aQuantizedKvTypeScoresRotatedQueriesAgainstRotatedKeys() {
        KvCache full = new KvCache(model.config(), 512);
        KvCache q8 = cache("full", Map.of("kv-type", "q8"));
        assertThat(q8.rotatesKeys()).isTrue();
        assertThat(full.rotatesKeys()).isFalse();
        float[] expected = transformer.forward(full, text, 0, 100, ForwardPass.Logits.LAST);
        float[] logits = transformer.forward(q8, text, 0, 100, ForwardPass.Logits.LAST);
        float worst = 0;
        for (int i = 100; i < 200; i++) {
            // the same first token wherever the full cache's first two are further apart than the error bound
            int top = argmax(expected);
            float second = -Float.MAX_VALUE;
            for (int t = 0; t < expected.length; t++) {
                second = t == top ? second : Math.max(second, expected[t]);
            }
            if (expected[top] - second > 0.5f) {
                assertThat(argmax(logits)).as("step " + i).isEqualTo(top);
            }
            for (int t = 0; t < logits.length; t++) {
                worst = Math.max(worst, Math.abs(logits[t] - expected[t]));
            }
            expected = transformer.forward(full, text, i, 1, ForwardPass.Logits.LAST);
            logits = transformer.forward(q8, text, i, 1, ForwardPass.Logits.LAST);
        }
        assertThat(worst).isLessThan(0.25f);
        // rows of 16: 2 bytes of scale and 16 codes, against 32 bytes of fp16 for the latest 32
        // entries; and a run of positions per head
        assertThat(q8.bytesHeld()).isEqualTo(8L * (8 + 168 * 2 * 18 + 32 * 2 * 32));
    }

    @ParameterizedTest
    @ValueSource(strings = {"window", "heavy-hitter", "adaptive", "mixed-precision", "span", "layer-condensed"})
    void everyPolicyRunsAndSavesMemoryWithoutLosingTheStory(String policy) {
        KvCache full = new KvCache(model.config(), 512);
        KvCache compressed = cache(policy, Map.of());
        float[] expected = run(full, 200, 400);
        float[] logits = run(compressed, 200, 400);
        KvMemoryReport memory = compressed.memory();
        assertThat(memory.tokens()).isEqualTo(400);
        assertThat(memory.ratio()).as(policy).isLessThan(0.95);
        assertThat(memory.fullBytes()).isEqualTo(full.bytesHeld());
        assertThat(memory.heads()).hasSize(model.config().layers() * model.config().kvHeads());
        // the compressed cache still predicts: its top token is among the full cache's top 5
        assertThat(rank(expected, argmax(logits))).as(policy).isLessThan(5);
    }

    @Test
    void windowHoldsExactlySinksPlusWindow() {
        KvCache cache = cache("window", Map.of("window.recent", "50"));
        run(cache, 100, 250);
        for (HeadMemory head : cache.memory().heads()) {
            assertThat(head.entries()).isEqualTo(4 + 50);
            // fp16 rows, and two runs of positions (sinks, recent) at 8 bytes each
            assertThat(head.bytesHeld()).isEqualTo(54L * (2 * 16 + 2 * 16) + 2 * 8);
        }
    }

    @Test
    void heavyHitterHoldsItsShareOfTheSequence() {
        KvCache cache = cache("heavy-hitter", Map.of("heavy-hitter.recent-ratio", "0.1", "heavy-hitter.heavy-ratio", "0.15"));
        run(cache, 100, 300);
        // sinks + ceil(0.1 * 300) + ceil(0.15 * 300), each with fp16 rows, position and attention
        for (HeadMemory head : cache.memory().heads()) {
            assertThat(head.entries()).isEqualTo(4 + 30 + 45);
            assertThat(head.bytesHeld()).isEqualTo(79L * (4 + 4 + 2 * 16 + 2 * 16));
        }
    }

    /**
     * SnapKV's scoring changes which entries a head keeps, not how many: the counts and bytes are
     * H2O's; and it does change them (the last 16 queries of a 100-token prompt do not look where
     * all 100 do).
     */
    @Test
    void anObservationWindowKeepsAsManyEntriesAsHeavyHitterButOthers() {
        Map<String, String> shares = Map.of("heavy-hitter.recent-ratio", "0.1", "heavy-hitter.heavy-ratio", "0.15");
        KvCache h2o = cache("heavy-hitter", shares);
        Map<String, String> windowed = new java.util.HashMap<>(shares);
        windowed.put("heavy-hitter.observation-window", "16");
        KvCache snap = cache("heavy-hitter", windowed);
        transformer.forward(h2o, text, 0, 100, ForwardPass.Logits.LAST);
        transformer.forward(snap, text, 0, 100, ForwardPass.Logits.LAST);
        int differing = 0;
        for (int layer = 0; layer < model.config().layers(); layer++) {
            for (int h = 0; h < model.config().kvHeads(); h++) {
                HeadCache a = h2o.head(layer, h);
                HeadCache b = snap.head(layer, h);
                // sinks + ceil(0.1 * 100) recent + ceil(0.15 * 100) heavy
                assertThat(b.size()).isEqualTo(a.size()).isEqualTo(4 + 10 + 15);
                int[] pa = new int[a.size()];
                int[] pb = new int[b.size()];
                a.readPositions(pa.length, pa);
                b.readPositions(pb.length, pb);
                differing += java.util.Arrays.equals(pa, pb) ? 0 : 1;
            }
        }
        assertThat(snap.bytesHeld()).isEqualTo(h2o.bytesHeld());
        assertThat(differing).isPositive();
    }

    @Test
    void mixedPrecisionKeepsEveryTokenAndItsImportantShareAtHighPrecision() {
        KvCache cache = cache("mixed-precision", Map.of("mixed-precision.important-ratio", "0.2",
                "mixed-precision.low-bits", "4", "mixed-precision.group-size", "16"));
        run(cache, 100, 300);
        for (HeadMemory head : cache.memory().heads()) {
            assertThat(head.entries() + head.lowPrecision()).isEqualTo(300);
            assertThat(head.entries()).isEqualTo(4 + 30 + 30);
            // fp16 rows (2*16 + 2*16 bytes) or 4-bit rows (4 + 8 bytes each for key and value), position,
            // attention, plus 16 key factors
            long expected = 64L * (8 + 64) + 236L * (8 + 24) + 16 * 4;
            assertThat(head.bytesHeld()).isEqualTo(expected);
        }
    }

    @Test
    void adaptiveWithLowPrecisionKeepsWhatItWouldEvictInFourBits() {
        KvCache cache = cache("adaptive", Map.of("adaptive.evicted", "low-precision", "adaptive.recovery-threshold", "0.9"));
        run(cache, 200, 260);
        int demoted = 0;
        for (HeadMemory head : cache.memory().heads()) {
            assertThat(head.entries() + head.lowPrecision()).isEqualTo(260);
            demoted += head.lowPrecision();
        }
        assertThat(demoted).isPositive();
        assertThat(cache.memory().ratio()).isLessThan(1.0);
    }

    @Test
    void mixedPrecisionWithInt8HighPrecision() {
        KvCache cache = cache("mixed-precision", Map.of("kv-type", "q8", "kv-residual", "0", "mixed-precision.low-bits", "2",
                "mixed-precision.group-size", "16", "mixed-precision.balance-keys", "false"));
        run(cache, 100, 200);
        for (HeadMemory head : cache.memory().heads()) {
            // int8 rows: 2 bytes of scale + 16 codes; 2-bit rows: 4 bytes of scale/min + 4; plus position and attention
            assertThat(head.bytesHeld()).isEqualTo(head.entries() * (8L + 2 * 18) + head.lowPrecision() * (8L + 2 * 8));
        }
    }

    @Test
    void layerCondensedHalvesTheCacheOfATwoLayerModel() {
        KvCache cache = cache("layer-condensed", Map.of());
        run(cache, 50, 60);
        assertThat(cache.memory().ratio()).isEqualTo(0.5);
    }

    @Test
    void measuredHeapFollowsTheAccounting() {
        // A long-context cache (many layers of the model's head shape) with and without compression.
        long fullAccounted = heapGrowth(() -> fill(KvCacheConfig.full()));
        long windowAccounted = heapGrowth(() -> fill(KvCacheConfig.parse("window", Map.of("window.recent", "60"))));
        assertThat(windowAccounted).isLessThan(fullAccounted / 4);
    }

    private static long heapGrowth(java.util.function.Supplier<KvCache[]> build) {
        var memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        KvCache[] caches = build.get();
        System.gc();
        long after = memory.getHeapMemoryUsage().getUsed();
        long accounted = 0;
        for (KvCache c : caches) {
            accounted += c.bytesHeld();
        }
        long measured = after - before;
        // the arrays behind the entries allow growth slack, bounded by 2x, plus per-object headers
        assertThat(measured).as("measured heap growth vs accounted bytes %d", accounted)
                .isBetween((long) (accounted * 0.9), accounted * 2 + (1 << 20));
        return accounted;
    }

    private static KvCache[] fill(KvCacheConfig policy) {
        var config = model.config();
        KvCache[] caches = new KvCache[64];
        float[] row = new float[config.headDim()];
        for (int c = 0; c < caches.length; c++) {
            caches[c] = new KvCache(config, 512, policy, classes);
            for (int p = 0; p < 512; p++) {
                caches[c].advance(text[p]);
                for (int layer = 0; layer < config.layers(); layer++) {
                    for (int h = 0; h < config.kvHeads(); h++) {
                        row[0] = p;
                        caches[c].head(layer, h).append(p, row, 0, row, 0);
                    }
                }
                caches[c].compact();
            }
        }
        return caches;
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int rank(float[] logits, int id) {
        int rank = 0;
        for (float l : logits) {
            if (l > logits[id]) {
                rank++;
            }
        }
        return rank;
    }
}
