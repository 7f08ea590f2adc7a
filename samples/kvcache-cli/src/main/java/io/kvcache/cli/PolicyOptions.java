package io.kvcache.cli;

import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/** The KV-cache policy options of the commands that run a sequence: --policy and its --set settings. */
final class PolicyOptions {
    @Option(names = "--policy", description = "KV-cache policy: full, window, heavy-hitter, adaptive, mixed-precision, "
            + "span, layer-condensed (default ${DEFAULT-VALUE})")
    String policy = "full";

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "A policy setting without the kvcache. prefix, e.g. window.recent=128 or kv-type=q4 (repeatable)")
    Map<String, String> settings = new LinkedHashMap<>();

    KvCacheConfig policy() {
        return KvCacheConfig.parse(policy, settings);
    }

    /** A cache of {@code capacity} positions run by the chosen policy. */
    KvCache cache(Model model, int capacity) {
        return new KvCache(model.config(), capacity, policy(), TokenClasses.of(model.tokenizer()));
    }
}
