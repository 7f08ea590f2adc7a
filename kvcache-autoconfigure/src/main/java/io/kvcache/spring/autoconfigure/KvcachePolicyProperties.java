package io.kvcache.spring.autoconfigure;

import io.kvcache.core.kv.AdaptivePolicy;
import io.kvcache.core.kv.BudgetAllocation;
import io.kvcache.core.kv.FullPolicy;
import io.kvcache.core.kv.Guardrail;
import io.kvcache.core.kv.HeavyHitterPolicy;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.KvPolicy;
import io.kvcache.core.kv.KvScale;
import io.kvcache.core.kv.KvType;
import io.kvcache.core.kv.LayerSharing;
import io.kvcache.core.kv.LowPrecision;
import io.kvcache.core.kv.MixedPrecisionPolicy;
import io.kvcache.core.kv.SpanPolicy;
import io.kvcache.core.kv.WindowPolicy;
import org.springframework.boot.context.properties.ConfigurationProperties;

import java.util.List;

/**
 * {@code kvcache.policy}, {@code kvcache.sinks} and each policy's settings
 * ({@code kvcache.window.*}, {@code kvcache.heavy-hitter.*}, ...). Defaults come from the engine's
 * policy records ({@link WindowPolicy#DEFAULT_RECENT} and so on); {@link #cacheConfig()} builds
 * those records, whose own validation reports a bad value with the property's name and what is
 * allowed.
 */
@ConfigurationProperties("kvcache")
public class KvcachePolicyProperties {
    /** The KV-cache policy: full, window, heavy-hitter, adaptive, mixed-precision, span or layer-condensed. */
    private String policy = "full";

    /** First tokens every policy keeps (attention sinks). */
    private int sinks = KvPolicy.DEFAULT_SINKS;

    /**
     * Precision of the entries a policy keeps as computed: f16, q8, q4, q3 or q2 (per-token groups
     * of that many bits, keys Hadamard-rotated); combines with every policy.
     */
    private String kvType = KvType.F16.value();

    /** Latest entries a quantized kv-type keeps in fp16 until newer ones come (KIVI's residual). */
    private int kvResidual = KvType.DEFAULT_RESIDUAL;

    /**
     * How a quantized kv-type stores each group's scale: f16, or e5m3 (one byte: fp16's exponent
     * and 3 mantissa bits, rounded up), which saves a byte a row where heads are narrow.
     */
    private String kvScale = KvScale.F16.value();

    private final Window window = new Window();
    private final HeavyHitter heavyHitter = new HeavyHitter();
    private final Adaptive adaptive = new Adaptive();
    private final MixedPrecision mixedPrecision = new MixedPrecision();
    private final Span span = new Span();
    private final LayerCondensed layerCondensed = new LayerCondensed();
    private final GuardrailSettings guardrail = new GuardrailSettings();

    /**
     * The engine's cache config from these properties. Every policy's record is built, so each
     * validates its own settings (naming the property) even where another policy is chosen.
     */
    public KvCacheConfig cacheConfig() {
        LowPrecision low = new LowPrecision(mixedPrecision.lowBits, mixedPrecision.groupSize, mixedPrecision.balanceKeys);
        List<KvPolicy> policies = List.of(FullPolicy.INSTANCE,
                new WindowPolicy(sinks, window.recent),
                new HeavyHitterPolicy(sinks, heavyHitter.recentRatio, heavyHitter.heavyRatio, heavyHitter.observationWindow,
                        BudgetAllocation.of("heavy-hitter.budget-allocation", heavyHitter.budgetAllocation)),
                new AdaptivePolicy(sinks, adaptive.recoveryThreshold, adaptive.localRatio, adaptive.frequencyRatio,
                        AdaptivePolicy.Evicted.of(adaptive.evicted), low),
                new MixedPrecisionPolicy(sinks, mixedPrecision.importantRatio, low,
                        BudgetAllocation.of("mixed-precision.budget-allocation", mixedPrecision.budgetAllocation)),
                new SpanPolicy(sinks, span.length, span.entries, span.recent));
        Guardrail watch = new Guardrail(guardrail.enabled, guardrail.threshold, guardrail.maxHeads);
        return KvCacheConfig.named(policy, policies, LayerSharing.parse(layerCondensed.shareGroups,
                policy.equals(KvCacheConfig.LAYER_CONDENSED) ? LayerSharing.ADJACENT_PAIRS : LayerSharing.NONE),
                KvType.of(kvType), kvResidual, KvScale.of(kvScale)).withGuardrail(watch);
    }

    public String getPolicy() {
        return policy;
    }

    public void setPolicy(String policy) {
        this.policy = policy;
    }

    public int getSinks() {
        return sinks;
    }

    public void setSinks(int sinks) {
        this.sinks = sinks;
    }

    public String getKvType() {
        return kvType;
    }

    public void setKvType(String kvType) {
        this.kvType = kvType;
    }

    public int getKvResidual() {
        return kvResidual;
    }

    public void setKvResidual(int kvResidual) {
        this.kvResidual = kvResidual;
    }

    public String getKvScale() {
        return kvScale;
    }

    public void setKvScale(String kvScale) {
        this.kvScale = kvScale;
    }

    public Window getWindow() {
        return window;
    }

    public HeavyHitter getHeavyHitter() {
        return heavyHitter;
    }

    public Adaptive getAdaptive() {
        return adaptive;
    }

    public MixedPrecision getMixedPrecision() {
        return mixedPrecision;
    }

    public Span getSpan() {
        return span;
    }

    public LayerCondensed getLayerCondensed() {
        return layerCondensed;
    }

    public GuardrailSettings getGuardrail() {
        return guardrail;
    }

    /** {@code kvcache.guardrail.*}: the quality guardrail (see {@link Guardrail}). */
    public static class GuardrailSettings {
        /**
         * Whether each compressing head's exposed attention is watched while decoding, and a head
         * whose moving mean passes the threshold keeps every entry for the rest of the conversation.
         */
        private boolean enabled = false;

        /** Moving mean of a head's exposed attention (0 to 1) above which it moves to keeping everything. */
        private double threshold = Guardrail.DEFAULT_THRESHOLD;

        /** Share of the heads (0 to 1) that may move in one conversation; the memory budget counts them as full. */
        private double maxHeads = Guardrail.DEFAULT_MAX_HEADS;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public double getThreshold() {
            return threshold;
        }

        public void setThreshold(double threshold) {
            this.threshold = threshold;
        }

        public double getMaxHeads() {
            return maxHeads;
        }

        public void setMaxHeads(double maxHeads) {
            this.maxHeads = maxHeads;
        }
    }

    public static class Window {
        /** Recent tokens the window policy keeps besides the sinks. */
        private int recent = WindowPolicy.DEFAULT_RECENT;

        public int getRecent() {
            return recent;
        }

        public void setRecent(int recent) {
            this.recent = recent;
        }
    }

    public static class HeavyHitter {
        /** Share of the conversation kept as its most recent tokens. */
        private double recentRatio = HeavyHitterPolicy.DEFAULT_RECENT_RATIO;

        /** Share of the conversation kept by accumulated attention. */
        private double heavyRatio = HeavyHitterPolicy.DEFAULT_HEAVY_RATIO;

        /**
         * The prompt's last queries whose attention scores its entries (SnapKV's observation
         * window); 0 scores them with every query (H2O).
         */
        private int observationWindow = HeavyHitterPolicy.DEFAULT_OBSERVATION_WINDOW;

        /**
         * How a layer's heavy hitters are shared among its KV heads: uniform (the same number
         * each), or adaptive (the layer keeps the entries with the most attention of all its
         * heads, Ada-KV).
         */
        private String budgetAllocation = HeavyHitterPolicy.DEFAULT_BUDGET_ALLOCATION.value();

        public double getRecentRatio() {
            return recentRatio;
        }

        public void setRecentRatio(double recentRatio) {
            this.recentRatio = recentRatio;
        }

        public double getHeavyRatio() {
            return heavyRatio;
        }

        public void setHeavyRatio(double heavyRatio) {
            this.heavyRatio = heavyRatio;
        }

        public int getObservationWindow() {
            return observationWindow;
        }

        public void setObservationWindow(int observationWindow) {
            this.observationWindow = observationWindow;
        }

        public String getBudgetAllocation() {
            return budgetAllocation;
        }

        public void setBudgetAllocation(String budgetAllocation) {
            this.budgetAllocation = budgetAllocation;
        }
    }

    public static class Adaptive {
        /** Share of a head's prompt attention its chosen policy must keep (FastGen's T). */
        private double recoveryThreshold = AdaptivePolicy.DEFAULT_RECOVERY_THRESHOLD;

        /** Share of the conversation the local window covers. */
        private double localRatio = AdaptivePolicy.DEFAULT_LOCAL_RATIO;

        /** Share of the conversation kept by accumulated attention. */
        private double frequencyRatio = AdaptivePolicy.DEFAULT_FREQUENCY_RATIO;

        /** What happens to tokens a head leaves out: drop, or low-precision (mixed-precision's low bits). */
        private String evicted = AdaptivePolicy.Evicted.DROP.value();

        public double getRecoveryThreshold() {
            return recoveryThreshold;
        }

        public void setRecoveryThreshold(double recoveryThreshold) {
            this.recoveryThreshold = recoveryThreshold;
        }

        public double getLocalRatio() {
            return localRatio;
        }

        public void setLocalRatio(double localRatio) {
            this.localRatio = localRatio;
        }

        public double getFrequencyRatio() {
            return frequencyRatio;
        }

        public void setFrequencyRatio(double frequencyRatio) {
            this.frequencyRatio = frequencyRatio;
        }

        public String getEvicted() {
            return evicted;
        }

        public void setEvicted(String evicted) {
            this.evicted = evicted;
        }
    }

    public static class MixedPrecision {
        /** Share of the conversation kept at high precision (half recent tokens, half heavy hitters). */
        private double importantRatio = MixedPrecisionPolicy.DEFAULT_IMPORTANT_RATIO;

        /** Bits of the other entries: 4, 3 or 2. */
        private int lowBits = LowPrecision.DEFAULT_BITS;

        /** Values per quantization group (one fp16 scale and minimum each). */
        private int groupSize = LowPrecision.DEFAULT_GROUP_SIZE;

        /** Whether key channels are balanced against queries before low-bit quantization. */
        private boolean balanceKeys = LowPrecision.DEFAULT_BALANCE_KEYS;

        /**
         * How a layer's heavy hitters (half the important share) are shared among its KV heads:
         * uniform, or adaptive (pooled by attention, Ada-KV).
         */
        private String budgetAllocation = MixedPrecisionPolicy.DEFAULT_BUDGET_ALLOCATION.value();

        public double getImportantRatio() {
            return importantRatio;
        }

        public void setImportantRatio(double importantRatio) {
            this.importantRatio = importantRatio;
        }

        public int getLowBits() {
            return lowBits;
        }

        public void setLowBits(int lowBits) {
            this.lowBits = lowBits;
        }

        public int getGroupSize() {
            return groupSize;
        }

        public void setGroupSize(int groupSize) {
            this.groupSize = groupSize;
        }

        public boolean isBalanceKeys() {
            return balanceKeys;
        }

        public void setBalanceKeys(boolean balanceKeys) {
            this.balanceKeys = balanceKeys;
        }

        public String getBudgetAllocation() {
            return budgetAllocation;
        }

        public void setBudgetAllocation(String budgetAllocation) {
            this.budgetAllocation = budgetAllocation;
        }
    }

    public static class Span {
        /** Tokens per closed span. */
        private int length = SpanPolicy.DEFAULT_LENGTH;

        /** Merged entries each span becomes (must divide the length). */
        private int entries = SpanPolicy.DEFAULT_ENTRIES;

        /** Recent tokens never merged. */
        private int recent = SpanPolicy.DEFAULT_RECENT;

        public int getLength() {
            return length;
        }

        public void setLength(int length) {
            this.length = length;
        }

        public int getEntries() {
            return entries;
        }

        public void setEntries(int entries) {
            this.entries = entries;
        }

        public int getRecent() {
            return recent;
        }

        public void setRecent(int recent) {
            this.recent = recent;
        }
    }

    public static class LayerCondensed {
        /** Groups of adjacent layers sharing their first layer's KV, e.g. 0-1,2-3; empty means adjacent pairs. */
        private String shareGroups = "";

        public String getShareGroups() {
            return shareGroups;
        }

        public void setShareGroups(String shareGroups) {
            this.shareGroups = shareGroups;
        }
    }
}
