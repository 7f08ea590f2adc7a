package io.kvcache.core.backend;

import io.kvcache.core.kv.KvCacheConfig;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Picks the backend named by {@code kvcache.backend}: {@code auto} takes the usable backend of
 * highest priority that can run the policy (CUDA when kvcache-cuda is present and a GPU is usable,
 * otherwise the CPU) and notes why it passed over the others; a named backend must be present,
 * usable and able to run the policy, or the choice fails with a message saying which it is not.
 */
public final class BackendSelector {
    public static final String AUTO = "auto";

    private BackendSelector() {
    }

    /**
     * @param provider   the chosen backend
     * @param status     its probe
     * @param passedOver for {@code auto}, each better backend left out, with why
     */
    public record Choice(BackendProvider provider, BackendStatus status, List<String> passedOver) {
    }

    /** The backends on the class path. */
    public static List<BackendProvider> installed() {
        List<BackendProvider> providers = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, BackendSelector.class.getClassLoader()).forEach(providers::add);
        return providers;
    }

    /**
     * @throws BackendUnavailableException when the requested backend cannot run (the message names
     *                                     the property, the backend and the reason)
     */
    public static Choice choose(String requested, KvCacheConfig cache, List<BackendProvider> providers) {
        String name = requested.toLowerCase(Locale.ROOT);
        if (name.equals(AUTO)) {
            return chooseAutomatically(cache, providers);
        }
        BackendProvider provider = providers.stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new BackendUnavailableException("kvcache.backend=" + name
                        + ": no such backend on the class path (present: " + names(providers) + ")"
                        + (name.equals("cuda") ? "; the CUDA backend comes with the io.kvcache:kvcache-cuda artifact" : "")));
        BackendStatus status = provider.status();
        if (!status.usable()) {
            throw new BackendUnavailableException("kvcache.backend=" + name + ": the " + name
                    + " backend cannot run on this machine: " + status.reason());
        }
        provider.refusal(cache).ifPresent(reason -> {
            throw new BackendUnavailableException("kvcache.backend=" + name + ": " + reason);
        });
        return new Choice(provider, status, List.of());
    }

    private static Choice chooseAutomatically(KvCacheConfig cache, List<BackendProvider> providers) {
        List<String> passedOver = new ArrayList<>();
        List<BackendProvider> byPriority = providers.stream()
                .sorted(Comparator.comparingInt(BackendProvider::autoPriority).reversed()).toList();
        for (BackendProvider provider : byPriority) {
            BackendStatus status = provider.status();
            if (!status.usable()) {
                passedOver.add(provider.name() + ": " + status.reason());
                continue;
            }
            var refusal = provider.refusal(cache);
            if (refusal.isPresent()) {
                passedOver.add(provider.name() + ": " + refusal.get());
                continue;
            }
            return new Choice(provider, status, List.copyOf(passedOver));
        }
        throw new BackendUnavailableException("kvcache.backend=auto: no backend can run here ("
                + (passedOver.isEmpty() ? "none on the class path" : String.join("; ", passedOver)) + ")");
    }

    private static String names(List<BackendProvider> providers) {
        return providers.isEmpty() ? "none" : String.join(", ", providers.stream().map(BackendProvider::name).toList());
    }
}
