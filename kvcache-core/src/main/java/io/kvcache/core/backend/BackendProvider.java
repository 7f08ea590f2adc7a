package io.kvcache.core.backend;

import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;

import java.util.Optional;

/**
 * A backend kvcache can run on, found with {@link java.util.ServiceLoader}: the CPU backend of
 * kvcache-core, and the CUDA backend when kvcache-cuda is on the class path.
 */
public interface BackendProvider {
    /** The {@code kvcache.backend} value naming it ("cpu", "cuda"). */
    String name();

    /** Preference under {@code kvcache.backend=auto}: the usable backend with the highest value runs. */
    int autoPriority();

    /** Whether it can run here. Probes at most once per JVM and never throws. */
    BackendStatus status();

    /** Why this backend cannot run a cache configured as {@code cache}, or empty when it can. */
    Optional<String> refusal(KvCacheConfig cache);

    /**
     * Opens the backend for {@code model}.
     *
     * @throws IllegalStateException when it cannot (the message says why)
     */
    Backend open(Model model, BackendSettings settings);
}
