package io.kvcache.core.kv;

import io.kvcache.core.model.Activation;
import io.kvcache.core.model.Architecture;
import io.kvcache.core.model.LayerAttention;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.ModelTraits;
import io.kvcache.core.model.RopeStyle;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Layers of different head widths (Gemma 4: narrower sliding heads than global ones): each layer's
 * cache holds entries of its own width, and layer-condensed sharing may not join layers whose
 * widths differ; on a hand-built two-layer model, layer 0 sliding with 4-wide heads, layer 1 global
 * with 8-wide heads.
 */
class LayerWidthsCacheTest {
    private static final ModelConfig MODEL = new ModelConfig("test", Architecture.GEMMA4, 16, 2, 2, 1, 8, 8, 32, 16,
            4096, 1e-6f, 10000f, 8, RopeStyle.HALVES, List.of(0, 1),
            new ModelTraits(4f, 1f, 1f, 0f, 1f, 1f, 0f, Activation.GELU, 1f, 0, null, null, true, 0,
                    List.of(new LayerAttention(4, true, 10000f, 1f, 4, 4, 4, false),
                            LayerAttention.global(1000000f, 8, 8, 8))));

    @Test
    void eachLayerCachesEntriesOfItsOwnWidth() {
        KvCache cache = new KvCache(MODEL, 64, KvCacheConfig.full(), TokenClasses.ordinary(16));
        assertThat(cache.head(0, 0).keyDim()).isEqualTo(4);
        assertThat(cache.head(0, 0).valueDim()).isEqualTo(4);
        assertThat(cache.head(1, 0).keyDim()).isEqualTo(8);
        assertThat(cache.head(1, 0).valueDim()).isEqualTo(8);
    }

    /**
     * The footprint counts each layer at its own widths: after 10 tokens the sliding layer's head
     * holds the 3 entries the next query sees, 4 + 4 fp16 values each, and the global layer's head
     * all 10, 8 + 8 each; each head's positions are one run of 8 bytes. 3 * 16 + 8 + 10 * 32 + 8 = 384
     * (at the global width throughout it would be 432).
     */
    @Test
    void theFootprintCountsEachLayerAtItsOwnWidth() {
        KvFootprint footprint = new KvFootprint(MODEL, KvCacheConfig.full());
        assertThat(footprint.bytesAt(10)).isEqualTo(3 * 16 + 8 + 10 * 32 + 8);
        for (int tokens : new int[] {1, 3, 4, 10, 100}) {
            KvCache cache = new KvCache(MODEL, 4096, KvCacheConfig.full(), TokenClasses.ordinary(16));
            for (int position = 0; position < tokens; position++) {
                cache.advance(5);
                for (int layer = 0; layer < 2; layer++) {
                    float[] row = new float[cache.head(layer, 0).keyDim()];
                    row[0] = position;
                    cache.head(layer, 0).append(position, row, 0, row, 0);
                }
            }
            cache.compact();
            assertThat(footprint.bytesAt(tokens)).as("at " + tokens).isEqualTo(cache.memory().bytesHeld());
        }
    }

    @Test
    void layerSharingAcrossWidthsIsRefused() {
        assertThatThrownBy(() -> new KvCache(MODEL, 64,
                KvCacheConfig.parse("layer-condensed", Map.of("layer-condensed.share-groups", "0-1")), TokenClasses.ordinary(16)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layer 1")
                .hasMessageContaining("4/4 wide against its 8/8");
    }
}
