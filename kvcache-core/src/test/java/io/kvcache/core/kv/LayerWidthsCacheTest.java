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

    @Test
    void layerSharingAcrossWidthsIsRefused() {
        assertThatThrownBy(() -> new KvCache(MODEL, 64,
                KvCacheConfig.parse("layer-condensed", Map.of("layer-condensed.share-groups", "0-1")), TokenClasses.ordinary(16)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layer 1")
                .hasMessageContaining("4/4 wide against its 8/8");
    }
}
