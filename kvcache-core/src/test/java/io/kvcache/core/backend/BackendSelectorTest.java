package io.kvcache.core.backend;

import io.kvcache.core.cpu.CpuBackendProvider;
import io.kvcache.core.kv.FullPolicy;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendSelectorTest {

    /** A backend whose probe and policy support are given. */
    private record Fake(String name, int autoPriority, BackendStatus status, String refuses) implements BackendProvider {
        @Override
        public Optional<String> refusal(KvCacheConfig policy) {
            return policy.policy() instanceof FullPolicy || refuses == null ? Optional.empty() : Optional.of(refuses);
        }

        @Override
        public Backend open(Model model, BackendSettings settings) {
            throw new AssertionError("not opened by selection");
        }
    }

    private static final BackendProvider CPU = new CpuBackendProvider();
    private static final BackendProvider GPU = new Fake("cuda", 100, BackendStatus.usable("GPU 0"),
            "the cuda backend holds the full cache only");
    private static final BackendProvider NO_GPU = new Fake("cuda", 100, BackendStatus.unusable("no CUDA driver"), null);
    private static final KvCacheConfig WINDOW = KvCacheConfig.parse("window", Map.of());

    @Test
    void autoPrefersAUsableGpuAndFallsBackToTheCpuSayingWhy() {
        assertThat(BackendSelector.choose("auto", KvCacheConfig.full(), List.of(CPU, GPU)).provider()).isSameAs(GPU);
        BackendSelector.Choice fallback = BackendSelector.choose("auto", KvCacheConfig.full(), List.of(CPU, NO_GPU));
        assertThat(fallback.provider()).isSameAs(CPU);
        assertThat(fallback.passedOver()).containsExactly("cuda: no CUDA driver");
        BackendSelector.Choice refused = BackendSelector.choose("AUTO", WINDOW, List.of(GPU, CPU));
        assertThat(refused.provider()).isSameAs(CPU);
        assertThat(refused.passedOver()).containsExactly("cuda: the cuda backend holds the full cache only");
    }

    @Test
    void aNamedBackendMustBePresentUsableAndAbleToRunThePolicy() {
        assertThat(BackendSelector.choose("cpu", KvCacheConfig.full(), List.of(CPU, GPU)).provider()).isSameAs(CPU);
        assertThatThrownBy(() -> BackendSelector.choose("cuda", KvCacheConfig.full(), List.of(CPU)))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("kvcache.backend=cuda").hasMessageContaining("present: cpu")
                .hasMessageContaining("io.kvcache:kvcache-cuda");
        assertThatThrownBy(() -> BackendSelector.choose("cuda", KvCacheConfig.full(), List.of(CPU, NO_GPU)))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessage("kvcache.backend=cuda: the cuda backend cannot run on this machine: no CUDA driver");
        assertThatThrownBy(() -> BackendSelector.choose("cuda", WINDOW, List.of(CPU, GPU)))
                .hasMessage("kvcache.backend=cuda: the cuda backend holds the full cache only");
        assertThatThrownBy(() -> BackendSelector.choose("auto", KvCacheConfig.full(), List.of(NO_GPU)))
                .hasMessage("kvcache.backend=auto: no backend can run here (cuda: no CUDA driver)");
    }

    @Test
    void theCpuBackendIsInstalled() {
        assertThat(BackendSelector.installed()).anyMatch(p -> p instanceof CpuBackendProvider);
        assertThat(CPU.status().usable()).isTrue();
    }
}
