package io.kvcache.core.kv;

import io.kvcache.core.model.Activation;
import io.kvcache.core.model.Architecture;
import io.kvcache.core.model.LayerAttention;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.ModelTraits;
import io.kvcache.core.model.RopeStyle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A sliding-window layer holds at most its window whatever the policy, and the sizing counts it so;
 * on hand-built caches of a two-layer model whose layer 0 slides over 4 positions and layer 1 sees all.
 */
class SlidingWindowCacheTest {
    private static final int DIM = 4;
    private static final int WINDOW = 4;
    private static final ModelConfig MODEL = new ModelConfig("test", Architecture.GEMMA2, 16, 2, 1, 1, DIM, DIM, 32, 16,
            4096, 1e-6f, 10000f, DIM, RopeStyle.HALVES, List.of(0, 1),
            new ModelTraits(4f, 0.5f, 1f, 0f, 1f, 1f, 0f, Activation.GELU, 1f, 0, null, null, false, 0,
                    List.of(LayerAttention.global(10000f, DIM, DIM, DIM).sliding(WINDOW, 10000f, 1f),
                            LayerAttention.global(10000f, DIM, DIM, DIM))));

    private static KvCache cache(String policy, Map<String, String> settings) {
        return new KvCache(MODEL, 4096, KvCacheConfig.parse(policy, settings), TokenClasses.ordinary(16));
    }

    /** Appends {@code count} tokens (ordinary words) as one forward call would, then compacts. */
    private static void evaluate(KvCache cache, int count) {
        for (int i = 0; i < count; i++) {
            int position = cache.length();
            cache.advance(5);
            float[] row = {position, 1, 2, 3};
            for (int layer = 0; layer < 2; layer++) {
                cache.head(layer, 0).append(position, row, 0, row, 0);
            }
        }
        cache.compact();
    }

    private static int[] positions(HeadCache head) {
        int[] out = new int[head.size()];
        head.readPositions(out.length, out);
        return out;
    }

    @Test
    void theSlidingLayerKeepsWhatTheNextQuerySeesAndTheGlobalLayerEverything() {
        KvCache cache = cache("full", Map.of());
        evaluate(cache, 10);
        // the next query, at position 10, sees 7 to 10; 10 is its own entry
        assertThat(positions(cache.head(0, 0))).containsExactly(7, 8, 9);
        assertThat(positions(cache.head(1, 0))).containsExactly(IntStream.range(0, 10).toArray());
        evaluate(cache, 1);
        assertThat(positions(cache.head(0, 0))).containsExactly(8, 9, 10);
    }

    @Test
    void aPolicyKeepsNothingOutsideTheWindowNotEvenItsSinks() {
        KvCache cache = cache("window", Map.of("window.recent", "3", "sinks", "2"));
        evaluate(cache, 10);
        assertThat(positions(cache.head(0, 0))).containsExactly(7, 8, 9);
        assertThat(positions(cache.head(1, 0))).containsExactly(0, 1, 7, 8, 9);
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "window", "heavy-hitter", "mixed-precision", "span", "adaptive"})
    void everyPolicyHoldsAtMostTheWindowAndTheFootprintCountsAtLeastThat(String policy) {
        KvCacheConfig config = KvCacheConfig.parse(policy, Map.of());
        KvFootprint footprint = new KvFootprint(MODEL, config);
        for (int tokens : new int[] {1, 3, 4, 5, 40, 300}) {
            KvCache cache = new KvCache(MODEL, 4096, config, TokenClasses.ordinary(16));
            evaluate(cache, tokens);
            int[] held = positions(cache.head(0, 0));
            assertThat(held.length).as(policy + " at " + tokens).isLessThanOrEqualTo(Math.min(tokens, WINDOW - 1));
            assertThat(IntStream.of(held).boxed().toList()).allSatisfy(p -> assertThat(p).isGreaterThan(tokens - WINDOW));
            assertThat(footprint.bytesAt(tokens)).as(policy + " at " + tokens).isGreaterThanOrEqualTo(cache.memory().bytesHeld());
            if (policy.equals("full")) {
                assertThat(footprint.bytesAt(tokens)).isEqualTo(cache.memory().bytesHeld());
            }
        }
    }

    @Test
    void aSequenceContinuesOnlyWhereItsSlidingLayerStillHoldsTheWindow() {
        KvCache cache = cache("full", Map.of());
        evaluate(cache, 10);
        assertThat(cache.resumablePrefix(10)).isEqualTo(10);
        // position 9 would see 6 to 9, and 6 is gone
        assertThat(cache.resumablePrefix(9)).isZero();
        assertThatThrownBy(() -> cache.truncate(9)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sliding-window");
        cache.truncate(0);
        evaluate(cache, 3);
        assertThat(cache.resumablePrefix(2)).isEqualTo(2);
        assertThat(positions(cache.head(0, 0))).containsExactly(0, 1, 2);
    }

    @Test
    void aCopyKeepsWhatItsOriginalHasDropped() {
        KvCache cache = cache("full", Map.of());
        evaluate(cache, 10);
        KvCache copy = cache.copy();
        assertThat(copy.resumablePrefix(9)).isZero();
        assertThat(positions(copy.head(0, 0))).containsExactly(7, 8, 9);
    }
}
