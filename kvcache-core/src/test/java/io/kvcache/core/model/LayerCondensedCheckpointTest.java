package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.SharedData;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Checkpoints that declare cross-layer KV sharing (LCKV's {@code layer_types}), made from the
 * TinyStories HF folder by adding the key to its config.json.
 */
class LayerCondensedCheckpointTest {
    private static final ComputePool POOL = new ComputePool(2);

    @TempDir
    Path temp;

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    private Path withLayerTypes(String layerTypes) throws IOException {
        Path original = SharedData.require("models/tiny/tinystories-656k-hf");
        Path folder = temp.resolve("lckv-" + layerTypes);
        Files.createDirectories(folder);
        try (var files = Files.list(original)) {
            for (Path file : files.toList()) {
                Path target = folder.resolve(file.getFileName().toString());
                if (file.getFileName().toString().equals("config.json")) {
                    String json = Files.readString(file).trim();
                    json = json.substring(0, json.lastIndexOf('}')) + ", \"layer_types\": \"" + layerTypes + "\"}";
                    Files.writeString(target, json.replace("\"model_type\": \"llama\"", "\"model_type\": \"lckv-llama\""));
                } else {
                    Files.copy(file, target);
                }
            }
        }
        return folder;
    }

    private static float[] logits(Model model, KvCacheConfig policy, int[] prompt, int split) {
        CpuForwardPass transformer = new CpuForwardPass(model, POOL);
        KvCache cache = new KvCache(model.config(), 64, policy, TokenClasses.of(model.tokenizer()));
        transformer.forward(cache, prompt, 0, split, ForwardPass.Logits.LAST);
        return transformer.forward(cache, prompt, split, prompt.length - split, ForwardPass.Logits.ALL);
    }

    @Test
    void aLayerAttendingToAnEarlierLayerIsTheLayerCondensedPolicyOfThePlainModel() throws IOException {
        try (Model declared = Model.load(withLayerTypes("0_0"));
             Model plain = Model.load(SharedData.require("models/tiny/tinystories-656k-hf"))) {
            int[] prompt = plain.tokenizer().encode("Once upon a time there was a little dog.", true, false);
            float[] expected = logits(plain, KvCacheConfig.parse("layer-condensed", Map.of("layer-condensed.share-groups", "0-1")),
                    prompt, 3);
            assertThat(logits(declared, KvCacheConfig.full(), prompt, 3)).containsExactly(expected);
            KvCache cache = new KvCache(declared.config(), 64);
            new CpuForwardPass(declared, POOL).forward(cache, prompt, 0, prompt.length, ForwardPass.Logits.LAST);
            assertThat(cache.memory().ratio()).isEqualTo(0.5);
            assertThatThrownBy(() -> new KvCache(declared.config(), 64, KvCacheConfig.parse("layer-condensed", Map.of()),
                    TokenClasses.ordinary(declared.config().vocabularySize())))
                    .hasMessageContaining("already shares keys and values");
        }
    }

    /**
     * Layer 0 attends to layer 1's cache (LCKV's top-layer KV): tokens must go through one at a
     * time, so a prompt evaluated in one call gives the logits of the same prompt fed in pieces,
     * and a token's lower layer sees the upper-layer entries of every earlier token of its batch.
     */
    @Test
    void aLayerAttendingToALaterLayerSeesEveryEarlierToken() throws IOException {
        try (Model model = Model.load(withLayerTypes("1_1"))) {
            assertThat(model.config().attendsToLaterLayers()).isTrue();
            int[] prompt = model.tokenizer().encode("Once upon a time there was a little dog.", true, false);
            float[] whole = logits(model, KvCacheConfig.full(), prompt, 1);
            float[] pieces = new float[whole.length];
            CpuForwardPass transformer = new CpuForwardPass(model, POOL);
            KvCache cache = new KvCache(model.config(), 64);
            transformer.forward(cache, prompt, 0, 1, ForwardPass.Logits.LAST);
            int vocabulary = model.config().vocabularySize();
            for (int i = 1; i < prompt.length; i++) {
                float[] row = transformer.forward(cache, prompt, i, 1, ForwardPass.Logits.LAST);
                System.arraycopy(row, 0, pieces, (i - 1) * vocabulary, vocabulary);
            }
            assertThat(whole).containsExactly(pieces);
            assertThat(cache.memory().heads()).allSatisfy(h -> {
                if (h.layer() == 0) {
                    assertThat(h.sharedWith()).isEqualTo(1);
                    assertThat(h.bytesHeld()).isZero();
                }
            });
            // the model still tells stories: its logits are not the plain model's, but finite
            for (float l : whole) {
                assertThat(l).isFinite();
            }
        }
    }

    @Test
    void badLayerTypesAreNamed() throws IOException {
        assertThatThrownBy(() -> Model.load(withLayerTypes("0_5"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("layer_types entry 1 '5'");
        assertThatThrownBy(() -> Model.load(withLayerTypes("1_0"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("itself attends to layer");
        assertThatThrownBy(() -> Model.load(withLayerTypes("0s_1"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("sliding-window");
        assertThatThrownBy(() -> Model.load(withLayerTypes("0_0_0"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("names 3 layers but the model has 2");
    }
}
