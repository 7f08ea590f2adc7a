package io.kvcache.spring;

import io.kvcache.core.kv.AdaptivePolicy;
import io.kvcache.core.kv.FullPolicy;
import io.kvcache.core.kv.HeavyHitterPolicy;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.KvPolicy;
import io.kvcache.core.kv.LayerSharing;
import io.kvcache.core.kv.LowPrecision;
import io.kvcache.core.kv.MixedPrecisionPolicy;
import io.kvcache.core.kv.SpanPolicy;
import io.kvcache.core.kv.WindowPolicy;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code kvcache.*} properties: which model to run, on which backend, and how its KV cache is
 * compressed. Each policy's settings take their defaults from the engine's policy record
 * ({@link WindowPolicy#DEFAULT_RECENT} and so on); {@link #policy()} builds that record, whose own
 * validation reports a bad value with the property's name and what is allowed.
 */
@ConfigurationProperties("kvcache")
@Validated
public class KvcacheProperties {
    /** Whether kvcache configures a model at all. */
    private boolean enabled = true;

    /** Where the model comes from. */
    @Valid
    private final ModelSource model = new ModelSource();

    /** Where the model runs: auto (CUDA when a GPU is usable, else the CPU), cpu or cuda. */
    private Backend backend = Backend.AUTO;

    /** Compute threads of the CPU backend; 0 means one per available processor. */
    @Min(0)
    private int threads = 0;

    /** The KV-cache policy: full, window, heavy-hitter, adaptive, mixed-precision, span or layer-condensed. */
    private String policy = "full";

    /** First tokens every policy keeps (attention sinks). */
    private int sinks = KvPolicy.DEFAULT_SINKS;

    private final Window window = new Window();
    private final HeavyHitter heavyHitter = new HeavyHitter();
    private final Adaptive adaptive = new Adaptive();
    private final MixedPrecision mixedPrecision = new MixedPrecision();
    private final Span span = new Span();
    private final LayerCondensed layerCondensed = new LayerCondensed();
    private final Memory memory = new Memory();
    @Valid
    private final Sessions sessions = new Sessions();
    @Valid
    private final Chat chat = new Chat();

    public enum Backend {
        AUTO, CPU, CUDA
    }

    /**
     * The engine's cache config from these properties. Every policy's record is built, so each
     * validates its own settings (naming the property) even where another policy is chosen.
     */
    public KvCacheConfig policy() {
        LowPrecision low = new LowPrecision(mixedPrecision.lowBits, mixedPrecision.groupSize, mixedPrecision.balanceKeys);
        List<KvPolicy> policies = List.of(FullPolicy.INSTANCE,
                new WindowPolicy(sinks, window.recent),
                new HeavyHitterPolicy(sinks, heavyHitter.recentRatio, heavyHitter.heavyRatio),
                new AdaptivePolicy(sinks, adaptive.recoveryThreshold, adaptive.localRatio, adaptive.frequencyRatio,
                        AdaptivePolicy.Evicted.of(adaptive.evicted), low),
                new MixedPrecisionPolicy(sinks, mixedPrecision.importantRatio, mixedPrecision.highBits, low),
                new SpanPolicy(sinks, span.length, span.entries, span.recent));
        return KvCacheConfig.named(policy, policies, LayerSharing.parse(layerCondensed.shareGroups,
                policy.equals(KvCacheConfig.LAYER_CONDENSED) ? LayerSharing.ADJACENT_PAIRS : LayerSharing.NONE));
    }

    /** Where the model comes from: {@code path} (on disk or the classpath) or {@code url} (downloaded), not both. */
    public static class ModelSource {
        /** A GGUF file or a Hugging Face folder on disk, or a classpath: resource. Set this or url, not both. */
        private String path;

        /**
         * A GGUF file to download once into cache-dir: an http(s):// URL, or hf:owner/repo/file.gguf for a file of a
         * Hugging Face repository, optionally pinned with @revision (a branch, tag or commit; main by default). Set
         * this or path, not both.
         */
        private String url;

        /** Where downloaded models are kept; by default .cache/kvcache/models in the user's home folder. */
        private String cacheDir;

        /**
         * The model file's SHA-256 (64 hex digits). A download must match it before it is used; a file given by path
         * is checked at every start.
         */
        private String sha256;

        /** The Hugging Face server that hf: URLs expand against, e.g. a mirror. */
        private String hfEndpoint = "https://huggingface.co";

        /** Positions a conversation may reach; 0 means the model's own context length. */
        @Min(0)
        private int contextLength = 0;

        public String getPath() {
            return path;
        }

        public void setPath(String path) {
            this.path = path;
        }

        public String getUrl() {
            return url;
        }

        public void setUrl(String url) {
            this.url = url;
        }

        public String getCacheDir() {
            return cacheDir;
        }

        public void setCacheDir(String cacheDir) {
            this.cacheDir = cacheDir;
        }

        /** {@link #getCacheDir()}, or its default under the user's home folder. */
        public Path cacheDirectory() {
            return cacheDir == null || cacheDir.isBlank()
                    ? Path.of(System.getProperty("user.home"), ".cache", "kvcache", "models")
                    : Path.of(cacheDir);
        }

        public String getSha256() {
            return sha256;
        }

        public void setSha256(String sha256) {
            this.sha256 = sha256;
        }

        public String getHfEndpoint() {
            return hfEndpoint;
        }

        public void setHfEndpoint(String hfEndpoint) {
            this.hfEndpoint = hfEndpoint;
        }

        public int getContextLength() {
            return contextLength;
        }

        public void setContextLength(int contextLength) {
            this.contextLength = contextLength;
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

        /** Bits of the high-precision entries: 16 (fp16) or 8. */
        private int highBits = MixedPrecisionPolicy.DEFAULT_HIGH_BITS;

        /** Bits of the other entries: 4, 3 or 2. */
        private int lowBits = LowPrecision.DEFAULT_BITS;

        /** Values per quantization group (one fp16 scale and minimum each). */
        private int groupSize = LowPrecision.DEFAULT_GROUP_SIZE;

        /** Whether key channels are balanced against queries before low-bit quantization. */
        private boolean balanceKeys = LowPrecision.DEFAULT_BALANCE_KEYS;

        public double getImportantRatio() {
            return importantRatio;
        }

        public void setImportantRatio(double importantRatio) {
            this.importantRatio = importantRatio;
        }

        public int getHighBits() {
            return highBits;
        }

        public void setHighBits(int highBits) {
            this.highBits = highBits;
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

    /** How much memory the KV caches of running conversations may take. */
    public static class Memory {
        /**
         * Most bytes the KV caches of the conversations generating at once may hold together, e.g. 512MB. A
         * conversation may reach the longest context whose cache, under the policy, fits this budget (never more
         * than model.context-length); a request waits while running ones hold the rest, and one that could never fit
         * is refused. Unset: no budget.
         */
        private DataSize budget;

        public DataSize getBudget() {
            return budget;
        }

        public void setBudget(DataSize budget) {
            this.budget = budget;
        }
    }

    public static class Sessions {
        /**
         * Most bytes the KV caches of conversations kept between turns may hold together; the least recently used go
         * first. Conversations generating at the moment count against memory.budget instead.
         */
        private DataSize maxBytes = DataSize.ofMegabytes(256);

        /** How long a conversation nobody continues is kept. */
        private Duration expireAfterAccess = Duration.ofMinutes(30);

        /** Conversations that generate at the same time; further requests wait for a free one. */
        @Min(1)
        private int maxActive = 2;

        /** How long a request waits for a free conversation slot, and for memory.budget, before it is refused. */
        private Duration maxWait = Duration.ofSeconds(60);

        public DataSize getMaxBytes() {
            return maxBytes;
        }

        public void setMaxBytes(DataSize maxBytes) {
            this.maxBytes = maxBytes;
        }

        public Duration getExpireAfterAccess() {
            return expireAfterAccess;
        }

        public void setExpireAfterAccess(Duration expireAfterAccess) {
            this.expireAfterAccess = expireAfterAccess;
        }

        public int getMaxActive() {
            return maxActive;
        }

        public void setMaxActive(int maxActive) {
            this.maxActive = maxActive;
        }

        public Duration getMaxWait() {
            return maxWait;
        }

        public void setMaxWait(Duration maxWait) {
            this.maxWait = maxWait;
        }
    }

    /** Default chat options; a request's own options override them. */
    public static class Chat {
        /** Sampling temperature; 0 is greedy. */
        @DecimalMin("0")
        private double temperature = 0.7;

        /** Nucleus sampling threshold. */
        @DecimalMin(value = "0", inclusive = false) @DecimalMax("1")
        private double topP = 0.95;

        /** Sample from the k most likely tokens; 0 for all. */
        @Min(0)
        private int topK = 40;

        /** Drop tokens below this fraction of the most likely one's probability. */
        @DecimalMin("0") @DecimalMax(value = "1", inclusive = false)
        private double minP = 0.05;

        /**
         * Most tokens a reply may have; must be below the context a conversation may reach. A request whose prompt
         * and max tokens together pass that context is refused.
         */
        @Min(1)
        private int maxTokens = 512;

        /** Strings that end a reply (not included in it). */
        private List<String> stop = new ArrayList<>();

        /** Sampling seed; unset for a different one per request. */
        private Long seed;

        /** Penalty on tokens already in the conversation; 1 for none. */
        @DecimalMin(value = "0", inclusive = false)
        private double repetitionPenalty = 1.0;

        public double getTemperature() {
            return temperature;
        }

        public void setTemperature(double temperature) {
            this.temperature = temperature;
        }

        public double getTopP() {
            return topP;
        }

        public void setTopP(double topP) {
            this.topP = topP;
        }

        public int getTopK() {
            return topK;
        }

        public void setTopK(int topK) {
            this.topK = topK;
        }

        public double getMinP() {
            return minP;
        }

        public void setMinP(double minP) {
            this.minP = minP;
        }

        public int getMaxTokens() {
            return maxTokens;
        }

        public void setMaxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
        }

        public List<String> getStop() {
            return stop;
        }

        public void setStop(List<String> stop) {
            this.stop = stop;
        }

        public Long getSeed() {
            return seed;
        }

        public void setSeed(Long seed) {
            this.seed = seed;
        }

        public double getRepetitionPenalty() {
            return repetitionPenalty;
        }

        public void setRepetitionPenalty(double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
        }
    }

    public Memory getMemory() {
        return memory;
    }

    public Sessions getSessions() {
        return sessions;
    }

    public Chat getChat() {
        return chat;
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public ModelSource getModel() {
        return model;
    }

    public Backend getBackend() {
        return backend;
    }

    public void setBackend(Backend backend) {
        this.backend = backend;
    }

    public int getThreads() {
        return threads;
    }

    public void setThreads(int threads) {
        this.threads = threads;
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
}
