package io.kvcache.cuda;

import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.BackendProvider;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.backend.BackendStatus;
import io.kvcache.core.kv.FullPolicy;
import io.kvcache.core.kv.KvType;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;

import java.util.Optional;

/**
 * The CUDA backend, found by {@link java.util.ServiceLoader} when kvcache-cuda is on the class path.
 * It is preferred under {@code kvcache.backend=auto} when {@link CudaProbe} finds a usable GPU and
 * the policy is {@code full}: the device holds the full fp16 cache; the compressing policies run
 * on the CPU backend.
 */
public final class CudaBackendProvider implements BackendProvider {
    public static final String NAME = "cuda";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int autoPriority() {
        return 100;
    }

    @Override
    public BackendStatus status() {
        CudaStatus status = CudaProbe.status();
        return status.usable() ? BackendStatus.usable(status.description()) : BackendStatus.unusable(status.reason());
    }

    @Override
    public Optional<String> refusal(KvCacheConfig cache) {
        if (!(cache.policy() instanceof FullPolicy) || cache.layerSharing().shares()) {
            return Optional.of("the cuda backend keeps the full fp16 cache only; kvcache.policy="
                    + cache.name() + (cache.layerSharing().shares() ? " with layer sharing" : "")
                    + " runs on the cpu backend");
        }
        if (cache.kvType() != KvType.F16) {
            return Optional.of("the cuda backend keeps the full fp16 cache only; kvcache.kv-type="
                    + cache.kvType().value() + " runs on the cpu backend");
        }
        return Optional.empty();
    }

    @Override
    public Backend open(Model model, BackendSettings settings) {
        CudaStatus status = CudaProbe.status();
        if (!status.usable()) {
            throw new IllegalStateException("the cuda backend cannot run on this machine: " + status.reason());
        }
        return new CudaBackend(model, settings, status);
    }
}
