package io.kvcache.core.kv.snapshot;

import io.kvcache.core.SharedData;
import io.kvcache.core.TinyStoriesOnCpu;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.kv.HeadMemory;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.Sampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A cache restored from its snapshot is the cache that was saved: on the shared tiny models, for
 * every policy, it continues the conversation with the same logits bit for bit, hence the same
 * tokens, and accounts the same figures, head by head. Bytes on the wire are the policy's
 * accounted bytes plus the token ids, the text and a small header.
 */
class CacheSnapshotTest {
    private static final int CAPACITY = 512;
    private static final int PROMPT = 150;
    private static final int SAVED_AT = 190;
    private static final int CONTINUED = 24;
    private static TinyStoriesOnCpu tiny;
    private static Model model;
    private static ModelIdentity identity;
    private static CpuForwardPass transformer;
    private static TokenClasses classes;
    private static int[] text;

    @BeforeAll
    static void load() throws Exception {
        tiny = TinyStoriesOnCpu.open();
        model = tiny.model();
        identity = ModelIdentity.of(model);
        transformer = tiny.forwardPass();
        classes = tiny.classes();
        text = tiny.text();
    }

    @AfterAll
    static void close() {
        tiny.close();
    }

    /** "policy|key=value;key=value" as a cache config. */
    private static KvCacheConfig config(String spec) {
        String[] parts = spec.split("\\|");
        Map<String, String> settings = new LinkedHashMap<>();
        if (parts.length > 1) {
            for (String setting : parts[1].split(";")) {
                String[] kv = setting.split("=");
                settings.put(kv[0], kv[1]);
            }
        }
        return KvCacheConfig.parse(parts[0], settings);
    }

    /** Prefills the prompt, then decodes the text's next tokens one at a time up to {@code SAVED_AT}. */
    private static KvCache conversation(KvCacheConfig config) {
        KvCache cache = new KvCache(model.config(), CAPACITY, config, classes);
        transformer.forward(cache, text, 0, PROMPT, ForwardPass.Logits.LAST);
        for (int i = PROMPT; i < SAVED_AT; i++) {
            transformer.forward(cache, text, i, 1, ForwardPass.Logits.LAST);
        }
        return cache;
    }

    /** Greedy decoding from the cache's last token: the logits of every step, concatenated. */
    private static float[] continueGreedily(KvCache cache, int lastToken) {
        float[] all = new float[CONTINUED * model.config().vocabularySize()];
        int[] next = {lastToken};
        for (int step = 0; step < CONTINUED; step++) {
            float[] logits = transformer.forward(cache, next, 0, 1, ForwardPass.Logits.LAST);
            System.arraycopy(logits, 0, all, step * logits.length, logits.length);
            next[0] = Sampler.argmax(logits, 0, logits.length);
        }
        return all;
    }

    @ParameterizedTest
    @CsvSource(delimiter = ',', value = {
            "full",
            "window|window.recent=48",
            "heavy-hitter|heavy-hitter.recent-ratio=0.1;heavy-hitter.heavy-ratio=0.15",
            "heavy-hitter|heavy-hitter.recent-ratio=0.1;heavy-hitter.heavy-ratio=0.15;heavy-hitter.budget-allocation=adaptive",
            "heavy-hitter|heavy-hitter.budget-allocation=adaptive;heavy-hitter.observation-window=16;kv-type=q4",
            "mixed-precision|mixed-precision.budget-allocation=adaptive;kv-type=q4",
            "adaptive|adaptive.recovery-threshold=0.9",
            "adaptive|adaptive.evicted=low-precision;adaptive.recovery-threshold=0.9",
            "mixed-precision",
            "mixed-precision|kv-type=q8;mixed-precision.low-bits=3;mixed-precision.balance-keys=false",
            "full|kv-type=q8",
            "full|kv-type=q4",
            "full|kv-type=q3",
            "full|kv-type=q2;kv-residual=0",
            "full|kv-type=q4;kv-residual=200",
            "full|kv-type=q4;kv-residual=8;kv-scale=e5m3",
            "window|window.recent=48;kv-type=q3;kv-scale=e5m3",
            "window|window.recent=48;kv-type=q4",
            "heavy-hitter|heavy-hitter.recent-ratio=0.1;heavy-hitter.heavy-ratio=0.15;kv-type=q3",
            "adaptive|adaptive.recovery-threshold=0.9;kv-type=q4",
            "adaptive|adaptive.evicted=low-precision;adaptive.recovery-threshold=0.9;kv-type=q8",
            "mixed-precision|kv-type=q4;mixed-precision.low-bits=2",
            "span|span.recent=32;span.length=8;span.entries=2;kv-type=q2",
            "layer-condensed|kv-type=q4",
            "span|span.recent=32;span.length=8;span.entries=2",
            "layer-condensed",
            "window|window.recent=48;layer-condensed.share-groups=0-1",
            "window|window.recent=16;guardrail.enabled=true;guardrail.threshold=0.02;guardrail.max-heads=0.5",
            "mixed-precision|mixed-precision.low-bits=2;guardrail.enabled=true;guardrail.threshold=0.5"})
    void aRestoredCacheContinuesExactlyAsTheSavedOne(String spec) {
        KvCacheConfig config = config(spec);
        KvCache saved = conversation(config);
        String conversationText = "Once upon a time… ✓";
        int[] textTokens = Arrays.copyOf(text, SAVED_AT - 3);
        byte[] bytes = CacheSnapshot.write(saved, identity, conversationText, textTokens);
        long accounted = saved.memory().bytesHeld();

        CacheSnapshot.Restored restored = CacheSnapshot.read(bytes, identity, CAPACITY, classes);
        KvCache cache = restored.cache();
        assertThat(restored.text()).isEqualTo(conversationText);
        assertThat(restored.textTokens()).containsExactly(textTokens);
        assertThat(cache.config()).isEqualTo(config);
        assertThat(cache.memory()).isEqualTo(saved.memory());
        for (int layer = 0; layer < cache.layers(); layer++) {
            for (int h = 0; h < cache.kvHeads(); h++) {
                assertThat(cache.headPolicy(layer, h)).isEqualTo(saved.headPolicy(layer, h));
            }
        }
        // the same snapshot again: nothing in the cache was left out of the bytes
        assertThat(CacheSnapshot.write(cache, identity, conversationText, textTokens)).isEqualTo(bytes);

        int last = text[SAVED_AT];
        float[] expected = continueGreedily(saved, last);
        float[] continued = continueGreedily(cache, last);
        assertThat(continued).as(spec).containsExactly(expected);
        assertThat(cache.memory()).isEqualTo(saved.memory());

        long overhead = bytes.length - accounted;
        System.out.printf("snapshot %-110s %8d bytes on the wire, %8d accounted (%+d: %d token ids, %d text ids, header)%n",
                spec, bytes.length, accounted, overhead, SAVED_AT, textTokens.length);
        // entries cost exactly what the policy accounts; the rest is the ids, the text and the header
        long idsAndText = 4L * SAVED_AT + 4L * textTokens.length + conversationText.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        assertThat(overhead - idsAndText).isBetween(0L, 1024L);
    }

    /** The guardrail's moves and what it has watched of each head survive, so the restored cache moves as the saved one would. */
    @Test
    void theGuardrailsWatchSurvives() {
        KvCache saved = conversation(config("window|window.recent=16;guardrail.enabled=true;guardrail.threshold=0.02;"
                + "guardrail.max-heads=0.5"));
        KvCache cache = CacheSnapshot.read(CacheSnapshot.write(saved, identity, "", new int[0]), identity, CAPACITY, classes).cache();
        assertThat(saved.memory().guardrailMoves()).as("half the 8 heads moved").isEqualTo(4);
        assertThat(cache.memory()).isEqualTo(saved.memory());
        for (int layer = 0; layer < cache.layers(); layer++) {
            for (int h = 0; h < cache.kvHeads(); h++) {
                assertThat(cache.exposure(layer, h)).isEqualTo(saved.exposure(layer, h));
                assertThat(cache.watchedCalls(layer, h)).isEqualTo(saved.watchedCalls(layer, h)).isPositive();
                assertThat(cache.moved(layer, h)).isEqualTo(saved.moved(layer, h));
            }
        }
    }

    /** Per-head budgets are each head's entries: a restored cache holds the uneven counts the saved one chose. */
    @Test
    void unevenPerHeadBudgetsSurvive() {
        KvCache saved = conversation(config("heavy-hitter|heavy-hitter.budget-allocation=adaptive"));
        KvCache cache = CacheSnapshot.read(CacheSnapshot.write(saved, identity, "", new int[0]), identity, CAPACITY, classes).cache();
        java.util.Set<Integer> counts = new java.util.HashSet<>();
        for (int i = 0; i < saved.memory().heads().size(); i++) {
            assertThat(cache.memory().heads().get(i)).isEqualTo(saved.memory().heads().get(i));
            counts.add(saved.memory().heads().get(i).entries());
        }
        assertThat(counts).as("heads keep different counts").hasSizeGreaterThan(1);
    }

    @Test
    void theAccountingOfEveryHeadSurvives() {
        KvCache saved = conversation(config("mixed-precision|mixed-precision.important-ratio=0.2"));
        KvCache cache = CacheSnapshot.read(CacheSnapshot.write(saved, identity, "", new int[0]), identity, CAPACITY, classes).cache();
        for (int i = 0; i < saved.memory().heads().size(); i++) {
            HeadMemory expected = saved.memory().heads().get(i);
            HeadMemory actual = cache.memory().heads().get(i);
            assertThat(actual).isEqualTo(expected);
            assertThat(actual.lowPrecision()).isPositive();
        }
        assertThat(cache.bytesHeld()).isEqualTo(saved.bytesHeld());
    }

    @Test
    void anotherModelsSnapshotIsRefused() throws Exception {
        byte[] bytes = CacheSnapshot.write(conversation(KvCacheConfig.full()), identity, "", new int[0]);
        try (Model other = Model.load(SharedData.require("models/tiny/tinystories-656k-Q8_0.gguf"))) {
            ModelIdentity otherIdentity = ModelIdentity.of(other);
            assertThat(otherIdentity).isNotEqualTo(identity);
            assertThatThrownBy(() -> CacheSnapshot.read(bytes, otherIdentity, CAPACITY, classes))
                    .isInstanceOf(SnapshotFormatException.class).hasMessageContaining("written for another model");
        }
        assertThat(ModelIdentity.of(model)).isEqualTo(identity);
    }

    @Test
    void damagedBytesAreRefusedWithAReason() {
        byte[] bytes = CacheSnapshot.write(conversation(config("window|window.recent=48")), identity, "text", new int[] {1, 2});
        byte[] flipped = bytes.clone();
        flipped[bytes.length / 2] ^= 0x10;
        assertThatThrownBy(() -> CacheSnapshot.read(flipped, identity, CAPACITY, classes))
                .isInstanceOf(SnapshotFormatException.class).hasMessageContaining("checksum");
        assertThatThrownBy(() -> CacheSnapshot.read(Arrays.copyOf(bytes, bytes.length - 100), identity, CAPACITY, classes))
                .isInstanceOf(SnapshotFormatException.class);
        byte[] newer = bytes.clone();
        newer[4] = 4;
        assertThatThrownBy(() -> CacheSnapshot.read(newer, identity, CAPACITY, classes))
                .isInstanceOf(SnapshotFormatException.class).hasMessageContaining("version 4");
        // version 2 stored a minimum beside each kv-type scale
        byte[] two = bytes.clone();
        two[4] = 2;
        assertThatThrownBy(() -> CacheSnapshot.read(two, identity, CAPACITY, classes))
                .isInstanceOf(SnapshotFormatException.class).hasMessageContaining("version 2");
        // version 1 knew no kv-type and stored mixed-precision.high-bits
        byte[] older = bytes.clone();
        older[4] = 1;
        assertThatThrownBy(() -> CacheSnapshot.read(older, identity, CAPACITY, classes))
                .isInstanceOf(SnapshotFormatException.class).hasMessageContaining("version 1");
        assertThatThrownBy(() -> CacheSnapshot.read("{\"json\": true}".getBytes(), identity, CAPACITY, classes))
                .isInstanceOf(SnapshotFormatException.class).hasMessageContaining("magic");
        // a conversation longer than this application's context
        assertThatThrownBy(() -> CacheSnapshot.read(bytes, identity, SAVED_AT - 1, classes))
                .isInstanceOf(SnapshotFormatException.class).hasMessageContaining("tokens");
    }
}
