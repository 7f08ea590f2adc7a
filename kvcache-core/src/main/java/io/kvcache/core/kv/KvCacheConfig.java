package io.kvcache.core.kv;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What shapes a sequence's KV cache: the compression policy its heads run, which layers share
 * another layer's cache, the precision the entries a policy keeps are stored at, and the quality
 * guardrail watching them. Built typed ({@code KvCacheConfig.of(WindowPolicy.DEFAULT.withRecent(64))})
 * or from the string form the CLI's {@code --set} and {@code /actuator/kvcache} use
 * ({@link #parse}, {@link #describe}).
 *
 * @param policy       the policy every head runs
 * @param layerSharing layers attending to another layer's cache ({@link LayerSharing#NONE} for none)
 * @param kvType       the precision of the entries kept as computed ({@code kvcache.kv-type})
 * @param kvResidual   latest entries kept as computed that a quantized kv-type holds in fp16
 *                     ({@code kvcache.kv-residual})
 * @param kvScale      how a quantized kv-type stores its groups' scales ({@code kvcache.kv-scale})
 * @param guardrail    whether and when a head whose compression costs too much moves to keeping everything
 */
public record KvCacheConfig(KvPolicy policy, LayerSharing layerSharing, KvType kvType, int kvResidual,
                            KvScale kvScale, Guardrail guardrail) {
    /** The {@code kvcache.policy} value of a full cache with shared layers. */
    public static final String LAYER_CONDENSED = "layer-condensed";

    /** The policies by their {@code kvcache.policy} value, with their default settings. */
    private static final List<KvPolicy> POLICY_DEFAULTS = List.of(FullPolicy.INSTANCE, WindowPolicy.DEFAULT,
            HeavyHitterPolicy.DEFAULT, AdaptivePolicy.DEFAULT, MixedPrecisionPolicy.DEFAULT, SpanPolicy.DEFAULT);

    /** Every setting of the string form and its default (the policies' own defaults). */
    public static final Map<String, String> DEFAULTS = defaults();

    public KvCacheConfig {
        if (policy == null || layerSharing == null || kvType == null || kvScale == null || guardrail == null) {
            throw new IllegalArgumentException("a KV cache needs a policy, a layer sharing (LayerSharing.NONE for none), "
                    + "a kv-type (KvType.F16 for fp16), a kv-scale (KvScale.F16 for fp16 scales) and a guardrail "
                    + "(Guardrail.OFF for none)");
        }
        PolicyChecks.integer(KvType.RESIDUAL_SETTING, kvResidual, 0, 1 << 20);
    }

    /** {@code policy} with {@code layerSharing}, its entries in fp16, no guardrail. */
    public KvCacheConfig(KvPolicy policy, LayerSharing layerSharing) {
        this(policy, layerSharing, KvType.F16, KvType.DEFAULT_RESIDUAL, KvScale.F16, Guardrail.OFF);
    }

    /** The full cache, no layer shared. */
    public static KvCacheConfig full() {
        return of(FullPolicy.INSTANCE);
    }

    /** {@code policy} with every layer holding its own cache. */
    public static KvCacheConfig of(KvPolicy policy) {
        return new KvCacheConfig(policy, LayerSharing.NONE);
    }

    public KvCacheConfig withLayerSharing(LayerSharing sharing) {
        return new KvCacheConfig(policy, sharing, kvType, kvResidual, kvScale, guardrail);
    }

    public KvCacheConfig withKvType(KvType type) {
        return new KvCacheConfig(policy, layerSharing, type, kvResidual, kvScale, guardrail);
    }

    public KvCacheConfig withKvResidual(int residual) {
        return new KvCacheConfig(policy, layerSharing, kvType, residual, kvScale, guardrail);
    }

    public KvCacheConfig withKvScale(KvScale scale) {
        return new KvCacheConfig(policy, layerSharing, kvType, kvResidual, scale, guardrail);
    }

    public KvCacheConfig withGuardrail(Guardrail guardrail) {
        return new KvCacheConfig(policy, layerSharing, kvType, kvResidual, kvScale, guardrail);
    }

    /** Whether the guardrail watches this config's heads: it is enabled, and the policy compresses. */
    public boolean watched() {
        return guardrail.enabled() && !(policy instanceof FullPolicy);
    }

    /** Heads of {@code owningHeads} (those holding their own cache) the guardrail may move in one sequence. */
    int movableHeads(int owningHeads) {
        return watched() ? guardrail.movableHeads(owningHeads) : 0;
    }

    /**
     * How each head stores its entries: the policy's layout at this config's kv-type, accumulating
     * the attention each entry receives where the guardrail watches (it reads what a head's queries
     * paid where).
     */
    public StorageLayout layout() {
        StorageLayout stored = policy.layout().storing(kvType, kvResidual, kvScale);
        return watched() ? stored.trackingAttention() : stored;
    }

    /** Every per-head policy a head may run: the policy's, then the guardrail's where it watches. */
    public List<HeadPolicy> headPolicies() {
        if (!watched()) {
            return policy.headPolicies();
        }
        List<HeadPolicy> all = new java.util.ArrayList<>(policy.headPolicies());
        all.add(Guardrail.MOVED);
        return List.copyOf(all);
    }

    /** The {@code kvcache.policy} value: the policy's name, or {@code layer-condensed} for a full cache with shared layers. */
    public String name() {
        return policy instanceof FullPolicy && layerSharing.shares() ? LAYER_CONDENSED : policy.name();
    }

    /** The policy values {@link #parse} accepts. */
    public static List<String> policyNames() {
        List<String> names = new java.util.ArrayList<>(POLICY_DEFAULTS.stream().map(KvPolicy::name).toList());
        names.add(LAYER_CONDENSED);
        return names;
    }

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("sinks", Integer.toString(KvPolicy.DEFAULT_SINKS));
        d.put(KvType.SETTING, KvType.F16.value());
        d.put(KvType.RESIDUAL_SETTING, Integer.toString(KvType.DEFAULT_RESIDUAL));
        d.put(KvScale.SETTING, KvScale.F16.value());
        for (KvPolicy policy : POLICY_DEFAULTS) {
            d.putAll(policy.settings());
        }
        d.putAll(LowPrecision.DEFAULT.settings());
        d.putAll(Guardrail.OFF.settings());
        d.put("layer-condensed.share-groups", "");
        return Map.copyOf(d);
    }

    /**
     * A cache config from a policy name and settings keyed as the properties under {@code kvcache.}
     * ({@link #DEFAULTS} fill the rest). {@code layer-condensed} is the full cache with
     * {@code layer-condensed.share-groups} (adjacent pairs when blank); any other policy shares
     * layers only where share-groups lists them.
     *
     * @throws IllegalArgumentException naming the setting, the bad value and what is allowed
     */
    public static KvCacheConfig parse(String policy, Map<String, String> settings) {
        for (String key : settings.keySet()) {
            if (!DEFAULTS.containsKey(key)) {
                throw new IllegalArgumentException("kvcache." + key + ": unknown setting; known settings are "
                        + String.join(", ", DEFAULTS.keySet().stream().sorted().toList()));
            }
        }
        Map<String, String> all = new LinkedHashMap<>(DEFAULTS);
        all.putAll(settings);
        SettingText s = new SettingText(all);
        int sinks = s.integer("sinks");
        LowPrecision low = new LowPrecision(s.integer("mixed-precision.low-bits"),
                s.integer("mixed-precision.group-size"), s.bool("mixed-precision.balance-keys"));
        // Every policy is built, so a bad setting fails even where another policy is chosen.
        List<KvPolicy> policies = List.of(FullPolicy.INSTANCE,
                new WindowPolicy(sinks, s.integer("window.recent")),
                new HeavyHitterPolicy(sinks, s.number("heavy-hitter.recent-ratio"), s.number("heavy-hitter.heavy-ratio"),
                        s.integer("heavy-hitter.observation-window"),
                        BudgetAllocation.of("heavy-hitter.budget-allocation", s.raw("heavy-hitter.budget-allocation"))),
                new AdaptivePolicy(sinks, s.number("adaptive.recovery-threshold"), s.number("adaptive.local-ratio"),
                        s.number("adaptive.frequency-ratio"), AdaptivePolicy.Evicted.of(s.raw("adaptive.evicted")), low),
                new MixedPrecisionPolicy(sinks, s.number("mixed-precision.important-ratio"), low,
                        BudgetAllocation.of("mixed-precision.budget-allocation", s.raw("mixed-precision.budget-allocation"))),
                new SpanPolicy(sinks, s.integer("span.length"), s.integer("span.entries"), s.integer("span.recent")));
        Guardrail guardrail = new Guardrail(s.bool("guardrail.enabled"), s.number("guardrail.threshold"),
                s.number("guardrail.max-heads"));
        String groups = all.get("layer-condensed.share-groups");
        return named(policy, policies, LayerSharing.parse(groups,
                policy.equals(LAYER_CONDENSED) ? LayerSharing.ADJACENT_PAIRS : LayerSharing.NONE), KvType.of(s.raw(KvType.SETTING)),
                s.integer(KvType.RESIDUAL_SETTING), KvScale.of(s.raw(KvScale.SETTING))).withGuardrail(guardrail);
    }

    /**
     * The config running the policy named {@code name} among {@code policies} (one of each), with
     * {@code sharing} and entries stored at {@code kvType} (the latest {@code kvResidual} in fp16,
     * scales as {@code kvScale} says), no guardrail; {@code layer-condensed} names the full cache.
     *
     * @throws IllegalArgumentException when no policy has that name
     */
    public static KvCacheConfig named(String name, List<KvPolicy> policies, LayerSharing sharing, KvType kvType,
                                      int kvResidual, KvScale kvScale) {
        String wanted = name.equals(LAYER_CONDENSED) ? FullPolicy.INSTANCE.name() : name;
        for (KvPolicy policy : policies) {
            if (policy.name().equals(wanted)) {
                return new KvCacheConfig(policy, sharing, kvType, kvResidual, kvScale, Guardrail.OFF);
            }
        }
        throw new IllegalArgumentException("kvcache.policy: '" + name + "' is not a policy; allowed values are "
                + String.join(", ", policyNames()));
    }

    /**
     * The policy's name and the settings it reads (its own, the sinks, any layer sharing, a kv-type
     * other than fp16 with its residual, scales other than fp16, the guardrail where enabled), as
     * {@link #parse} reads them.
     */
    public Map<String, String> describe() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("policy", name());
        d.putAll(policy.settings());
        if (kvType != KvType.F16) {
            d.put(KvType.SETTING, kvType.value());
            d.put(KvType.RESIDUAL_SETTING, Integer.toString(kvResidual));
        }
        if (kvScale != KvScale.F16) {
            d.put(KvScale.SETTING, kvScale.value());
        }
        if (layerSharing.shares()) {
            d.put("layer-condensed.share-groups", layerSharing.toString());
        }
        if (guardrail.enabled()) {
            d.putAll(guardrail.settings());
        }
        return d;
    }

    /** Typed reads of string settings, with errors that name the property. */
    private record SettingText(Map<String, String> values) {
        String raw(String key) {
            return values.get(key).trim();
        }

        int integer(String key) {
            try {
                return Integer.parseInt(raw(key));
            } catch (NumberFormatException e) {
                throw PolicyChecks.bad(key, raw(key), "expected an integer");
            }
        }

        double number(String key) {
            try {
                return Double.parseDouble(raw(key));
            } catch (NumberFormatException e) {
                throw PolicyChecks.bad(key, raw(key), "expected a number from 0 to 1");
            }
        }

        boolean bool(String key) {
            return switch (raw(key)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw PolicyChecks.bad(key, raw(key), "allowed values are true, false");
            };
        }
    }
}
