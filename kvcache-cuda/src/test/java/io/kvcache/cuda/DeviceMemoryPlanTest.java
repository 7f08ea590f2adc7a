package io.kvcache.cuda;

import io.kvcache.core.SharedData;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufTensor;
import io.kvcache.core.kv.HeadMemory;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import io.kvcache.core.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DeviceMemoryPlanTest {
    private static final long MIB = 1L << 20;

    @ParameterizedTest
    @ValueSource(strings = {"tiny/stories260K.gguf", "tiny/tinystories-656k.gguf", "tiny/tinystories-656k-Q4_0.gguf",
            "tiny/tinystories-656k-BF16.gguf", "synthetic/llama3-tiny-Q4_K_M.gguf", "synthetic/llama2-tiny-Q5_K_M.gguf",
            "synthetic/qwen2-tiny-Q8_0.gguf", "synthetic/qwen3-tiny-Q8_0.gguf"})
    void weightsTakeExactlyTheBytesTheFileStoresThem(String name) {
        Path path = SharedData.require("models/" + name);
        long fileBytes = 0;
        try (GgufFile file = GgufFile.open(path)) {
            for (GgufTensor t : file.tensors()) {
                if (!t.name().equals("rope_freqs.weight")) {
                    fileBytes += t.data().byteSize();
                }
            }
        }
        try (Model model = Model.load(path)) {
            DeviceMemoryPlan plan = DeviceMemoryPlan.of(model, 256, 1, 32);
            List<WeightSlot> slots = plan.weights();
            long stored = slots.stream().filter(s -> !s.name().equals("rope_frequencies")).mapToLong(WeightSlot::bytes).sum();
            assertThat(stored).as("device weight bytes against the GGUF tensor data").isEqualTo(fileBytes);
            assertThat(plan.ropeFrequencies().bytes()).isEqualTo(model.config().ropeDims() / 2 * 4L);
            for (WeightSlot s : slots) {
                assertThat(s.bytes()).as(s.name()).isEqualTo(s.type().bytesFor((long) s.rows() * s.cols()));
                assertThat(s.bytes()).as(s.name() + " source").isEqualTo(s.source().byteSize());
            }
            List<WeightSlot> byOffset = slots.stream().sorted(Comparator.comparingLong(WeightSlot::offset)).toList();
            for (int i = 1; i < byOffset.size(); i++) {
                assertThat(byOffset.get(i).offset()).as(byOffset.get(i).name() + " after " + byOffset.get(i - 1).name())
                        .isGreaterThanOrEqualTo(byOffset.get(i - 1).end());
            }
            assertThat(byOffset.getLast().end()).isEqualTo(plan.weightBytes());
            assertThat(plan.weightBytes() - stored - plan.ropeFrequencies().bytes())
                    .as("alignment padding").isLessThan(ArenaLayout.ALIGNMENT * slots.size());
        }
    }

    @Test
    void slotsAreAlignedExceptWhereOneLaunchReadsThemTogether() {
        try (Model model = Model.load(SharedData.require("models/synthetic/llama3-tiny-Q4_K_M.gguf"))) {
            DeviceMemoryPlan plan = DeviceMemoryPlan.of(model, 512, 1, 16);
            int fused = 0;
            for (LayerSlots layer : plan.layers()) {
                for (WeightSlot s : List.of(layer.attentionNorm(), layer.query(), layer.attentionOutput(), layer.ffnNorm(),
                        layer.gate(), layer.down())) {
                    assertThat(s.offset() % ArenaLayout.ALIGNMENT).as(s.name()).isZero();
                }
                boolean sameTypes = layer.query().type() == layer.key().type() && layer.key().type() == layer.value().type();
                assertThat(layer.fusedQkv()).as(layer.query().name()).isEqualTo(sameTypes);
                assertThat(layer.fusedGateUp()).isEqualTo(layer.gate().type() == layer.up().type());
                fused += layer.fusedQkv() ? 1 : 0;
            }
            // Q4_K_M keeps attn_v in Q6_K in some layers only: both cases occur in this file.
            assertThat(fused).isBetween(1, plan.layers().size() - 1);
            assertThat(plan.tokenEmbedding().type()).isEqualTo(GgmlType.Q6_K);
            assertThat(plan.output()).as("tied output").isSameAs(plan.tokenEmbedding());
        }
    }

    @Test
    void qwenBiasesAndNormsAreOnTheDevice() {
        try (Model qwen2 = Model.load(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"));
             Model qwen3 = Model.load(SharedData.require("models/synthetic/qwen3-tiny-Q8_0.gguf"))) {
            LayerSlots q2 = DeviceMemoryPlan.of(qwen2, 64, 1, 8).layers().getFirst();
            assertThat(q2.qkvBias().cols()).isEqualTo(ActivationLayout.qkvWidth(qwen2.config()));
            assertThat(q2.queryNorm()).isNull();
            LayerSlots q3 = DeviceMemoryPlan.of(qwen3, 64, 1, 8).layers().getFirst();
            assertThat(q3.qkvBias()).isNull();
            assertThat(q3.queryNorm().cols()).isEqualTo(qwen3.config().headDim());
            assertThat(q3.keyNorm().cols()).isEqualTo(qwen3.config().headDim());
        }
    }

    @Test
    void kvCacheAndActivationsByHand() {
        // tinystories-656k: dim 128, 2 layers, 8 heads / 4 KV heads of 16, ffn 384, vocabulary 2048
        try (Model model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"))) {
            DeviceMemoryPlan plan = DeviceMemoryPlan.of(model, 512, 2, 64);
            assertThat(plan.storedLayers()).isEqualTo(2);
            assertThat(plan.kvHeadBytes()).isEqualTo(512 * (16 + 16) * 2);
            assertThat(plan.keyBytes()).isEqualTo(2L * 2 * 4 * 512 * 16 * 2);
            assertThat(plan.valueBytes()).isEqualTo(2L * 2 * 4 * 512 * 16 * 2);
            assertThat(plan.keyOffset(1, 1)).isEqualTo(3L * 4 * 512 * 16 * 2);
            assertThat(plan.valueOffset(0, 1)).isEqualTo(4L * 512 * 16 * 2);
            ActivationLayout a = plan.activations();
            assertThat(a.xn() - a.x()).isEqualTo(64 * 128 * 4);
            assertThat(a.attention() - a.qkv()).isEqualTo(64 * (8 * 16 + 4 * 16 + 4 * 16) * 4);
            assertThat(a.hidden() - a.gateUp()).isEqualTo(64 * 2 * 384 * 4);
            assertThat(a.tokens() - a.logits()).isEqualTo(64 * 2048 * 4);
            assertThat(a.bytes() - a.tokens()).isEqualTo(2 * (512 + 1) * 4);
            // about 656K F32 weights take two 2 MiB pages; keys, values and activations one each
            assertThat(plan.weightBytes()).isBetween(2 * MIB + 1, 4 * MIB);
            assertThat(plan.deviceBytes()).isEqualTo(4 * MIB + 3 * 2 * MIB);
            assertThat(plan.shortfall(10 * MIB)).isEmpty();
            assertThat(plan.shortfall(10 * MIB - 1)).get().asString().contains("kvcache.model.context-length")
                    .contains("needs 0.01 GiB on the GPU").contains("weights 0.00");
        }
    }

    @Test
    void deviceKvBytesAreTheCpuFullCacheWithoutItsPositions() {
        try (Model model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
             ComputePool pool = new ComputePool(1)) {
            DeviceMemoryPlan plan = DeviceMemoryPlan.of(model, 512, 1, 64);
            KvCache cache = new KvCache(model.config(), 512);
            int tokens = 37;
            new CpuForwardPass(model, pool).forward(cache, new int[tokens], 0, tokens, ForwardPass.Logits.LAST);
            for (HeadMemory head : cache.memory().heads()) {
                // the CPU's positions are one run (first position, entries) of 8 bytes
                assertThat(head.bytesHeld() - 2L * Integer.BYTES)
                        .isEqualTo(tokens * plan.kvBytesPerTokenAndHead());
            }
            assertThat(plan.kvHeadBytes() * plan.storedLayers() * model.config().kvHeads())
                    .isEqualTo(plan.keyBytes() + plan.valueBytes());
        }
    }

    @Test
    void badShapesAreRefusedWithTheReason() {
        try (Model model = Model.load(SharedData.require("models/tiny/stories260K.gguf"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DeviceMemoryPlan.of(model, 100_000, 1, 8))
                    .hasMessageContaining("context length 100000").hasMessageContaining("512");
        }
    }
}
