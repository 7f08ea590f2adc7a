package io.kvcache.cuda;

import io.kvcache.core.SharedData;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Architecture;
import io.kvcache.core.model.Model;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.RopeStyle;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The parts of the CUDA backend that decide things on the host, exercised without a GPU. */
class HostSideTest {
    private static final ModelConfig TINY = new ModelConfig("tiny", Architecture.LLAMA, 8, 1, 2, 1, 4, 4, 16, 10, 64,
            1e-5f, 10000f, 4, RopeStyle.INTERLEAVED);

    @Test
    void launchArgumentsAreCheckedAgainstTheKernelsSignature() {
        CudaKernel norm = CudaKernel.RMS_NORM;
        CUdeviceptr p = new CUdeviceptr();
        assertThat(KernelLauncher.parameters(norm.entry(), norm.signature(), p, p, p, 64, 1e-5f)).hasSize(5);
        assertThatThrownBy(() -> KernelLauncher.parameters(norm.entry(), norm.signature(), p, p, p, 64))
                .hasMessage("rms_norm takes 5 arguments, given 4");
        assertThatThrownBy(() -> KernelLauncher.parameters(norm.entry(), norm.signature(), p, p, p, 64, 1e-5))
                .hasMessage("rms_norm argument 4 must be 'f' (p pointer, i int, f float), given Double");
        assertThatThrownBy(() -> KernelLauncher.parameters(norm.entry(), norm.signature(), p, 3, p, 64, 1e-5f))
                .hasMessageContaining("argument 1 must be 'p'");
    }

    @Test
    void aSequenceKeepsItsSlotAndTheLeastRecentlyUsedSlotGoesToANewOne() {
        DeviceSequences sequences = new DeviceSequences(2);
        DeviceSequence a = new DeviceSequence(TINY, 64, KvCacheConfig.full());
        DeviceSequence b = new DeviceSequence(TINY, 64, KvCacheConfig.full());
        DeviceSequence c = new DeviceSequence(TINY, 64, KvCacheConfig.full());
        DeviceSequences.Slot slotA = sequences.slotFor(a);
        slotA.length = 0;
        DeviceSequences.Slot slotB = sequences.slotFor(b);
        assertThat(slotB.index).isNotEqualTo(slotA.index);
        for (int t = 0; t < 5; t++) {
            a.tokens().advance(t);
        }
        slotA.length = 5;
        assertThat(sequences.slotFor(a)).isSameAs(slotA);
        assertThat(slotA.length).as("the device holds all of a").isEqualTo(5);
        // b was used longer ago than a: c takes b's slot, and b comes back to a fresh start
        DeviceSequences.Slot slotC = sequences.slotFor(c);
        assertThat(slotC).isSameAs(slotB);
        assertThat(slotC.length).isZero();
        a.truncate(3);
        assertThat(sequences.slotFor(a).length).as("a rewound on the host keeps its first 3 positions").isEqualTo(3);
        DeviceSequences.Slot again = sequences.slotFor(b);
        assertThat(again).as("c is now the least recently used").isSameAs(slotC);
        assertThat(again.length).as("b is evaluated again from its token ids").isZero();
    }

    /** The device's full fp16 cache, counted: per position, per layer and KV head, a key and a value row of fp16. */
    @Test
    void aDeviceSequenceReportsItsDeviceBytesAndHoldsOnlyTheFullCache() {
        DeviceSequence sequence = new DeviceSequence(TINY, 64, KvCacheConfig.full());
        for (int t = 0; t < 10; t++) {
            sequence.tokens().advance(t);
        }
        long perHead = 10L * 2 * (TINY.headDim() + TINY.valueDim());
        assertThat(sequence.memory().heads()).hasSize(TINY.layers() * TINY.kvHeads())
                .allSatisfy(head -> assertThat(head.bytesHeld()).isEqualTo(perHead));
        assertThat(sequence.bytesHeld()).isEqualTo(perHead * TINY.layers() * TINY.kvHeads());
        sequence.truncate(4);
        assertThat(sequence.length()).isEqualTo(4);
        assertThatThrownBy(() -> new DeviceSequence(TINY, 64, KvCacheConfig.parse("window", Map.of())))
                .hasMessageContaining("full cache only");
        assertThatThrownBy(() -> new DeviceSequence(TINY, 64, KvCacheConfig.parse("full", Map.of("kv-type", "q4"))))
                .hasMessageContaining("fp16 only, not kv-type q4");
    }

    @Test
    void theCudaProviderRunsTheFullCacheOnlyAndOpensNothingWithoutAGpu() {
        CudaBackendProvider provider = new CudaBackendProvider();
        assertThat(provider.refusal(KvCacheConfig.full())).isEmpty();
        assertThat(provider.refusal(KvCacheConfig.parse("mixed-precision", Map.of()))).get().asString()
                .contains("kvcache.policy=mixed-precision").contains("cpu backend");
        assertThat(provider.refusal(KvCacheConfig.parse("full", Map.of("layer-condensed.share-groups", "0-1")))).get()
                .asString().contains("layer sharing");
        assertThat(provider.refusal(KvCacheConfig.parse("full", Map.of("kv-type", "q8")))).get().asString()
                .contains("kvcache.kv-type=q8").contains("cpu backend");
        Assumptions.assumeFalse(CudaProbe.status().usable(), "skipped: this machine has a usable GPU");
        try (Model model = Model.load(SharedData.require("models/tiny/stories260K.gguf"))) {
            assertThatThrownBy(() -> provider.open(model, new BackendSettings(1, 64, 1)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("the cuda backend cannot run on this machine: " + CudaProbe.status().reason());
        }
    }
}
