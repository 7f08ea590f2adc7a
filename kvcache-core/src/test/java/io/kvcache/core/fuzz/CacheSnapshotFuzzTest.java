package io.kvcache.core.fuzz;

import io.kvcache.core.SharedData;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.kv.snapshot.CacheSnapshot;
import io.kvcache.core.kv.snapshot.ModelIdentity;
import io.kvcache.core.kv.snapshot.SnapshotFormatException;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cache snapshots come back from a store other processes write to: mutated snapshots either
 * restore a cache that then continues the conversation, or fail with a
 * {@link SnapshotFormatException}; nothing else escapes, nothing runs away. Most mutated inputs get
 * their checksum recomputed, so that the mutations reach the parser rather than stop at the
 * checksum. Seeds: snapshots of short conversations on stories260K under the policies with the
 * most to read back (low-bit rows and key factors, merged entries, per-head policies, shared layers).
 */
class CacheSnapshotFuzzTest {
    private static final int CAPACITY = 128;

    @Test
    void cacheSnapshots() {
        try (Model model = Model.load(SharedData.require("models/tiny/stories260K.gguf"));
             ComputePool pool = new ComputePool(1)) {
            ModelIdentity identity = ModelIdentity.of(model);
            CpuForwardPass transformer = new CpuForwardPass(model, pool);
            TokenClasses classes = TokenClasses.of(model.tokenizer());
            int[] text = model.tokenizer().encode("Once upon a time, there was a little girl named Lily. She liked to play "
                    + "outside with her dog. One day, the sun was hot, and they went to the park.", true, false);
            List<byte[]> seeds = new ArrayList<>();
            for (KvCacheConfig config : List.of(
                    KvCacheConfig.parse("mixed-precision", Map.of("mixed-precision.important-ratio", "0.2")),
                    KvCacheConfig.parse("span", Map.of("span.recent", "8", "span.length", "4", "span.entries", "2")),
                    KvCacheConfig.parse("adaptive", Map.of("adaptive.evicted", "low-precision")),
                    KvCacheConfig.parse("layer-condensed", Map.of()))) {
                KvCache cache = new KvCache(model.config(), CAPACITY, config, classes);
                transformer.forward(cache, text, 0, text.length - 4, ForwardPass.Logits.LAST);
                for (int i = text.length - 4; i < text.length; i++) {
                    transformer.forward(cache, text, i, 1, ForwardPass.Logits.LAST);
                }
                seeds.add(CacheSnapshot.write(cache, identity, "Once upon a time", new int[] {1, 2, 3}));
            }
            int[] next = {text[3]};
            Fuzzing.Report report = Fuzzing.run("cache-snapshot", seeds, (seed, all, random) -> {
                byte[] mutated = Mutations.bytes(seed, all, random, 2048);
                if (random.nextInt(4) > 0 && mutated.length >= 4) {
                    CRC32C crc = new CRC32C();
                    crc.update(mutated, 0, mutated.length - 4);
                    int value = (int) crc.getValue();
                    for (int i = 0; i < 4; i++) {
                        mutated[mutated.length - 4 + i] = (byte) (value >> (8 * i));
                    }
                }
                return mutated;
            }, input -> {
                KvCache cache = CacheSnapshot.read(input, identity, CAPACITY, classes).cache();
                if (cache.length() < CAPACITY) {
                    transformer.forward(cache, next, 0, 1, ForwardPass.Logits.LAST);
                }
            }, Set.of(SnapshotFormatException.class), Fuzzing.inputs(2000), Fuzzing.BYTES);
            assertThat(report.findings()).isEmpty();
        }
    }
}
