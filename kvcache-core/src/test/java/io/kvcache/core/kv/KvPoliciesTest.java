package io.kvcache.core.kv;

import io.kvcache.core.model.Architecture;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.RopeStyle;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Selection, merging and accounting of the policies on hand-built caches (no model involved). */
class KvPoliciesTest {
    private static final int DIM = 4;
    /** Token ids of the tiny vocabulary below: 0 special, 1 punctuation, the rest ordinary. */
    private static final TokenClasses CLASSES = new TokenClassesFixture().classes();

    private static ModelConfig config(int layers, int kvHeads) {
        return new ModelConfig("test", Architecture.LLAMA, 16, layers, kvHeads, kvHeads, DIM, DIM, 32, 16, 4096,
                1e-5f, 10000f, DIM, RopeStyle.INTERLEAVED);
    }

    private static KvCache cache(String policy, Map<String, String> settings, int layers) {
        return new KvCache(config(layers, 1), 4096, KvCacheConfig.parse(policy, settings), CLASSES);
    }

    /** Appends tokens with keys/values whose first component is the position, then compacts. */
    private static void append(KvCache cache, int... tokens) {
        for (int token : tokens) {
            int position = cache.length();
            cache.advance(token);
            float[] row = {position, 1, 2, 3};
            for (int layer = 0; layer < cache.layers(); layer++) {
                if (cache.ownsLayer(layer)) {
                    cache.head(layer, 0).append(position, row, 0, row, 0);
                }
            }
        }
    }

    private static int[] keptPositions(HeadCache head) {
        return IntStream.range(0, head.kept().size()).map(head.kept()::position).toArray();
    }

    @Test
    void windowKeepsSinksAndRecentTokens() {
        KvCache cache = cache("window", Map.of("window.recent", "3", "sinks", "2"), 1);
        append(cache, new int[10]);
        cache.compact();
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0, 1, 7, 8, 9);
        append(cache, 5);
        cache.compact();
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0, 1, 8, 9, 10);
    }

    @Test
    void heavyHitterKeepsTheTokensWithTheMostAttention() {
        KvCache cache = cache("heavy-hitter", Map.of("sinks", "1", "heavy-hitter.recent-ratio", "0.2",
                "heavy-hitter.heavy-ratio", "0.2"), 1);
        append(cache, new int[10]);
        float[] received = new float[10];
        received[3] = 5;
        received[5] = 4;
        received[6] = 1;
        cache.head(0, 0).addAttention(received, 10);
        cache.compact();
        // sink 0, recent 8-9 (ceil 0.2*10 = 2), heavy 3 and 5
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0, 3, 5, 8, 9);
    }

    @Test
    void mixedPrecisionDemotesInsteadOfDropping() {
        KvCache cache = cache("mixed-precision", Map.of("sinks", "1", "mixed-precision.important-ratio", "0.4",
                "mixed-precision.low-bits", "2", "mixed-precision.group-size", "4", "mixed-precision.balance-keys", "false"), 1);
        append(cache, new int[10]);
        float[] received = new float[10];
        received[4] = 3;
        received[2] = 2;
        cache.head(0, 0).addAttention(received, 10);
        cache.compact();
        HeadCache head = cache.head(0, 0);
        // important: sink 0, recent ceil(0.2*10)=2 -> 8, 9, heavy 2 -> 4 and 2
        assertThat(keptPositions(head)).containsExactly(0, 2, 4, 8, 9);
        assertThat(head.lowPrecisionEntries()).isEqualTo(5);
        assertThat(head.size()).isEqualTo(10);
        // 2-bit rows of 4 values: one group (fp16 scale + min) + 1 byte of codes = 5 bytes
        long lowBytes = 5L * (Integer.BYTES + Float.BYTES + 5 + 5);
        long keptBytes = 5L * (Integer.BYTES + Float.BYTES + 2 * DIM + 2 * DIM);
        assertThat(head.bytesHeld()).isEqualTo(lowBytes + keptBytes);
    }

    @Test
    void spanMergingKeepsTheAttentionOutputOfIdenticalKeys() {
        KvCache cache = cache("span", Map.of("sinks", "1", "span.length", "4", "span.recent", "2"), 1);
        HeadCache head = cache.head(0, 0);
        float[] same = {0.5f, -1, 0.25f, 2};
        float[] value = {1, 2, 3, 4};
        float[] query = {1, 0.5f, -0.5f, 0.25f};
        cache.advance(3);
        head.append(0, new float[] {1, 1, 1, 1}, 0, new float[] {-1, 0, 1, 0}, 0);
        for (int p = 1; p <= 4; p++) {
            cache.advance(3);
            head.append(p, same, 0, value, 0);
        }
        for (int p = 5; p <= 6; p++) {
            cache.advance(3);
            head.append(p, new float[] {0, 1, 0, p}, 0, new float[] {p, 0, 0, 1}, 0);
        }
        float[] before = attend(head, query);
        cache.compact();
        assertThat(head.mergedEntries()).isEqualTo(1);
        assertThat(head.size()).isEqualTo(4);
        float[] after = attend(head, query);
        for (int d = 0; d < DIM; d++) {
            assertThat(after[d]).isCloseTo(before[d], org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    /** Softmax attention of one query over what the head holds, logit biases included (a plain reference). */
    private static float[] attend(HeadCache head, float[] query) {
        int n = head.size();
        float[] keys = new float[n * DIM];
        float[] values = new float[n * DIM];
        float[] biases = new float[n];
        head.readKeys(n, keys);
        head.readValues(n, values);
        head.readBiases(n, biases);
        double[] weights = new double[n];
        double sum = 0;
        for (int e = 0; e < n; e++) {
            double score = biases[e];
            for (int d = 0; d < DIM; d++) {
                score += query[d] * keys[e * DIM + d] / 2.0;
            }
            weights[e] = Math.exp(score);
            sum += weights[e];
        }
        float[] out = new float[DIM];
        for (int e = 0; e < n; e++) {
            for (int d = 0; d < DIM; d++) {
                out[d] += (float) (weights[e] / sum * values[e * DIM + d]);
            }
        }
        return out;
    }

    @Test
    void adaptiveHeadThatOnlyLooksAtBosChoosesSpecial() {
        KvCache cache = cache("adaptive", Map.of("sinks", "0"), 1);
        append(cache, 0, 5, 6, 7, 8, 9, 10, 11);
        FastGenProfile profile = profileWith(cache, (query, probabilities) -> probabilities[0] = 1);
        assertThat(profile.recoveries()[0]).isEqualTo(1.0);
        choose(cache, profile);
        assertThat(cache.headPolicy(0, 0).name()).isEqualTo("special");
        cache.compact();
        assertThat(keptPositions(cache.head(0, 0))).containsExactly(0);
    }

    @Test
    void adaptivePurelyLocalHeadChoosesTheLocalPolicy() {
        KvCache cache = cache("adaptive", Map.of("sinks", "0"), 1);
        append(cache, 0, 5, 6, 7, 8, 9, 10, 11, 12, 13);
        // every query attends only to itself
        FastGenProfile profile = profileWith(cache, (query, probabilities) -> probabilities[query] = 1);
        double[] recoveries = profile.recoveries();
        assertThat(recoveries[0]).isEqualTo(0.1); // only the BOS query's own attention
        assertThat(recoveries[3]).isEqualTo(1.0);
        choose(cache, profile);
        assertThat(cache.headPolicy(0, 0).name()).isEqualTo("special+punctuation+frequency+local");
    }

    @Test
    void adaptivePunctuationHeadChoosesSpecialPlusPunctuation() {
        KvCache cache = cache("adaptive", Map.of("sinks", "0"), 1);
        append(cache, 0, 5, 1, 6, 7, 1, 8, 9);
        // half on BOS, half on the latest punctuation token so far
        FastGenProfile profile = profileWith(cache, (query, probabilities) -> {
            int punctuation = query >= 5 ? 5 : query >= 2 ? 2 : 0;
            probabilities[0] += 0.5f;
            probabilities[punctuation] += 0.5f;
        });
        choose(cache, profile);
        assertThat(cache.headPolicy(0, 0).name()).isEqualTo("special+punctuation");
    }

    /**
     * The profile taken in one pass (per-entry local attention, the rest from the head's
     * statistics) equals FastGen's definition computed over the stored rows in a second pass:
     * every query's mass on each candidate's entries, with the frequency set fixed by the
     * statistics of the whole prompt.
     */
    @Test
    void adaptiveProfileInOnePassEqualsTheTwoPassDefinition() {
        int sinks = 2;
        double frequencyRatio = 0.25;
        double localRatio = 0.2;
        int group = 3;
        for (long seed = 1; seed <= 6; seed++) {
            java.util.Random random = new java.util.Random(seed);
            KvCache cache = cache("adaptive", Map.of("sinks", Integer.toString(sinks),
                    "adaptive.frequency-ratio", Double.toString(frequencyRatio),
                    "adaptive.local-ratio", Double.toString(localRatio)), 1);
            int n = 30 + random.nextInt(50);
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) {
                double u = random.nextDouble();
                tokens[i] = u < 0.1 ? 0 : u < 0.25 ? 1 : 2 + random.nextInt(14);
            }
            append(cache, tokens);
            FastGenProfile profile = ((AdaptivePolicy) cache.config().policy()).profile(cache, 0, 0);
            float[][] rows = new float[n * group][];
            for (int r = 0; r < rows.length; r++) {
                int q = r / group;
                rows[r] = new float[q + 1];
                float sum = 0;
                for (int e = 0; e <= q; e++) {
                    rows[r][e] = (float) Math.pow(random.nextDouble(), 3);
                    sum += rows[r][e];
                }
                for (int e = 0; e <= q; e++) {
                    rows[r][e] /= sum;
                }
                profile.add(rows[r], q + 1, q);
                cache.head(0, 0).addAttention(rows[r], q + 1);
            }

            // the second pass: which set first holds each entry, then every row's mass per candidate
            Entries kept = cache.head(0, 0).kept();
            int[] set = new int[n];
            for (int e = 0; e < n; e++) {
                set[e] = e < sinks || tokens[e] == 0 ? 0 : tokens[e] == 1 ? 1 : 3;
            }
            int frequent = (int) Math.ceil(frequencyRatio * n);
            for (int f = 0; f < frequent; f++) {
                int best = -1;
                for (int e = 0; e < n; e++) {
                    if (set[e] == 3 && (best < 0 || kept.attention(e) > kept.attention(best))) {
                        best = e;
                    }
                }
                if (best >= 0) {
                    set[best] = 2;
                }
            }
            int window = (int) Math.ceil(localRatio * n);
            double[] mass = new double[4];
            for (int r = 0; r < rows.length; r++) {
                int q = r / group;
                for (int e = 0; e <= q; e++) {
                    if (set[e] == 3 && e <= q - window) {
                        continue;
                    }
                    for (int c = set[e]; c < 4; c++) {
                        mass[c] += rows[r][e];
                    }
                }
            }
            double[] expected = {mass[0] / rows.length, mass[1] / rows.length, mass[2] / rows.length,
                    mass[3] / rows.length, 1};
            assertThat(profile.recoveries()).as("seed %d", seed)
                    .containsExactly(expected, org.assertj.core.data.Offset.offset(1e-6));
            // each candidate adds what it should: the local set is not empty of attention
            assertThat(expected[3]).isGreaterThan(expected[2]);
        }
    }

    private interface Pattern {
        void fill(int query, float[] probabilities);
    }

    /** Fixes head 0/0's policy as the adaptive policy does from its profile. */
    private static void choose(KvCache cache, FastGenProfile profile) {
        AdaptivePolicy adaptive = (AdaptivePolicy) cache.config().policy();
        cache.setHeadPolicy(0, 0, adaptive.candidate(profile.choose(adaptive.recoveryThreshold())));
    }

    /** Feeds the profile each query's probabilities and adds them to the head's statistics, as the prompt's attention pass does. */
    private static FastGenProfile profileWith(KvCache cache, Pattern pattern) {
        FastGenProfile profile = ((AdaptivePolicy) cache.config().policy()).profile(cache, 0, 0);
        for (int q = 0; q < cache.length(); q++) {
            float[] p = new float[q + 1];
            pattern.fill(q, p);
            profile.add(p, q + 1, q);
            cache.head(0, 0).addAttention(p, q + 1);
        }
        return profile;
    }

    @Test
    void layerCondensedLayersHoldNothingOfTheirOwn() {
        KvCache cache = cache("layer-condensed", Map.of(), 4);
        append(cache, 1, 2, 3);
        assertThat(cache.ownsLayer(0)).isTrue();
        assertThat(cache.ownsLayer(1)).isFalse();
        assertThat(cache.head(1, 0)).isSameAs(cache.head(0, 0));
        KvMemoryReport memory = cache.memory();
        long perHead = 3L * (2 * DIM + 2 * DIM) + 8; // fp16 rows, one run of positions
        assertThat(memory.fullBytes()).isEqualTo(4 * perHead);
        assertThat(memory.bytesHeld()).isEqualTo(2 * perHead);
        assertThat(memory.heads().get(1).sharedWith()).isZero();
        assertThat(memory.ratio()).isEqualTo(0.5);
    }

    @Test
    void fullCacheAccountingIsAHandCount() {
        KvCache cache = cache("full", Map.of(), 2);
        append(cache, 1, 2, 3, 4, 5);
        cache.compact();
        // per entry fp16 key and value of 4 values each; per head one run of positions (first position, entries)
        assertThat(cache.bytesHeld()).isEqualTo(2 * (5L * (8 + 8) + 8));
        assertThat(cache.memory().ratio()).isEqualTo(1.0);
        assertThat(cache.memory().heads()).allSatisfy(h -> assertThat(h.policy()).isEqualTo("full"));
    }

    @Test
    void badSettingsNameThePropertyAndTheAllowedValues() {
        assertThatThrownBy(() -> KvCacheConfig.parse("fastgen", Map.of()))
                .hasMessageContaining("kvcache.policy").hasMessageContaining("adaptive");
        assertThatThrownBy(() -> KvCacheConfig.parse("mixed-precision", Map.of("mixed-precision.low-bits", "5")))
                .hasMessageContaining("kvcache.mixed-precision.low-bits").hasMessageContaining("4, 3, 2");
        assertThatThrownBy(() -> KvCacheConfig.parse("adaptive", Map.of("adaptive.recovery-threshold", "1.5")))
                .hasMessageContaining("kvcache.adaptive.recovery-threshold").hasMessageContaining("0 to 1");
        assertThatThrownBy(() -> KvCacheConfig.parse("window", Map.of("window.size", "3")))
                .hasMessageContaining("kvcache.window.size").hasMessageContaining("window.recent");
        assertThatThrownBy(() -> KvCacheConfig.parse("layer-condensed", Map.of("layer-condensed.share-groups", "0-1,1-2")))
                .hasMessageContaining("share-groups");
        assertThatThrownBy(() -> cache("layer-condensed", Map.of("layer-condensed.share-groups", "0-5"), 4))
                .hasMessageContaining("layer 5 does not exist");
        assertThatThrownBy(() -> KvCacheConfig.parse("window", Map.of("kv-type", "q5")))
                .hasMessageContaining("kvcache.kv-type: 'q5'").hasMessageContaining("f16, q8, q4, q3, q2");
        assertThatThrownBy(() -> KvCacheConfig.parse("full", Map.of("kv-type", "q4", "kv-scale", "e4m3")))
                .hasMessageContaining("kvcache.kv-scale: 'e4m3'").hasMessageContaining("f16, e5m3");
        assertThatThrownBy(() -> KvCacheConfig.parse("window", Map.of("heavy-hitter.observation-window", "-1")))
                .hasMessageContaining("kvcache.heavy-hitter.observation-window");
        assertThat(KvCacheConfig.parse("heavy-hitter", Map.of("heavy-hitter.observation-window", "32")).describe())
                .containsEntry("heavy-hitter.observation-window", "32");
        // the important entries' precision is the kv-type now
        assertThatThrownBy(() -> KvCacheConfig.parse("mixed-precision", Map.of("mixed-precision.high-bits", "8")))
                .hasMessageContaining("kvcache.mixed-precision.high-bits: unknown setting").hasMessageContaining("kv-type");
    }

    /** The kv-type reads back from its string form with every policy, and only a quantized type rotates keys. */
    @Test
    void theKvTypeCombinesWithEveryPolicy() {
        for (String policy : KvCacheConfig.policyNames()) {
            for (KvType type : KvType.values()) {
                for (KvScale scale : KvScale.values()) {
                    KvCacheConfig config = KvCacheConfig.parse(policy, Map.of("kv-type", type.value(), "kv-scale", scale.value()));
                    assertThat(config.kvType()).isEqualTo(type);
                    assertThat(config.kvScale()).isEqualTo(scale);
                    assertThat(config.layout().highBits()).isEqualTo(type.bits());
                    assertThat(config.layout().rotatesKeys()).isEqualTo(type != KvType.F16);
                    // fp16 entries have no scales to store
                    assertThat(config.layout().scaleBits()).isEqualTo(type == KvType.F16 ? 16 : scale.bits());
                    Map<String, String> settings = new java.util.LinkedHashMap<>(config.describe());
                    String name = settings.remove("policy");
                    assertThat(KvCacheConfig.parse(name, settings)).isEqualTo(config);
                }
            }
        }
        assertThat(KvCacheConfig.parse("window", Map.of()).kvType()).isEqualTo(KvType.F16);
        assertThat(KvCacheConfig.parse("window", Map.of()).kvScale()).isEqualTo(KvScale.F16);
    }

    /** Token 0 is a control token, token 1 is "." and the rest are words. */
    private static final class TokenClassesFixture {
        TokenClasses classes() {
            TokenClass[] classes = new TokenClass[16];
            Arrays.fill(classes, TokenClass.ORDINARY);
            classes[0] = TokenClass.SPECIAL;
            classes[1] = TokenClass.PUNCTUATION;
            return TokenClasses.of(classes);
        }
    }
}
