package io.kvcache.core.cpu;

import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.BackendProvider;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.backend.BackendStatus;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;

import java.util.Optional;

/** The CPU backend: always usable, runs every policy, and is what {@code auto} falls back to. */
public final class CpuBackendProvider implements BackendProvider {
    public static final String NAME = "cpu";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int autoPriority() {
        return 0;
    }

    @Override
    public BackendStatus status() {
        return BackendStatus.usable(System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors()
                + " processors");
    }

    @Override
    public Optional<String> refusal(KvCacheConfig cache) {
        return Optional.empty();
    }

    @Override
    public Backend open(Model model, BackendSettings settings) {
        return new CpuBackend(model, new ComputePool(settings.threads()));
    }
}
