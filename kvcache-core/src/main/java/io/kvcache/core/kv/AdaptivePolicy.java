package io.kvcache.core.kv;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code adaptive} (FastGen): each KV head profiles the prompt's attention and runs the cheapest
 * of special, +punctuation, +frequency, +local, full that recovers {@code recoveryThreshold} of
 * its attention (see {@link FastGenProfile}); until then it keeps everything.
 *
 * @param sinks             first tokens kept
 * @param recoveryThreshold share of a head's prompt attention the chosen policy must keep (T)
 * @param localRatio        share of the sequence the local window covers
 * @param frequencyRatio    share kept by accumulated attention
 * @param evicted           drop what a head leaves out, or keep it in low precision
 * @param lowPrecision      how the left-out tokens are stored with {@link Evicted#LOW_PRECISION}
 */
public record AdaptivePolicy(int sinks, double recoveryThreshold, double localRatio, double frequencyRatio,
                             Evicted evicted, LowPrecision lowPrecision) implements KvPolicy {
    /** FastGen's T; 0.9 loses four times the KL on tinystories-656k (docs/kv-quality.md). */
    public static final double DEFAULT_RECOVERY_THRESHOLD = 0.95;
    /** FastGen's r_local = r_frequency = 0.3. */
    public static final double DEFAULT_LOCAL_RATIO = 0.3;
    public static final double DEFAULT_FREQUENCY_RATIO = 0.3;
    public static final AdaptivePolicy DEFAULT = new AdaptivePolicy(DEFAULT_SINKS, DEFAULT_RECOVERY_THRESHOLD,
            DEFAULT_LOCAL_RATIO, DEFAULT_FREQUENCY_RATIO, Evicted.DROP, LowPrecision.DEFAULT);

    /** What {@code adaptive} does with the tokens a head's chosen policy leaves out ({@code kvcache.adaptive.evicted}). */
    public enum Evicted {
        DROP("drop"), LOW_PRECISION("low-precision");

        private final String value;

        Evicted(String value) {
            this.value = value;
        }

        public String value() {
            return value;
        }

        /** The choice named {@code value}, or an error naming the property and the choices. */
        public static Evicted of(String value) {
            return PolicyChecks.named("adaptive.evicted", value, values(), Evicted::value);
        }
    }

    public AdaptivePolicy {
        PolicyChecks.sinks(sinks);
        PolicyChecks.ratio("adaptive.recovery-threshold", recoveryThreshold);
        PolicyChecks.ratio("adaptive.local-ratio", localRatio);
        PolicyChecks.ratio("adaptive.frequency-ratio", frequencyRatio);
        if (evicted == null || lowPrecision == null) {
            throw new IllegalArgumentException("adaptive: evicted and the low-precision storage must be given");
        }
    }

    public AdaptivePolicy withSinks(int sinks) {
        return new AdaptivePolicy(sinks, recoveryThreshold, localRatio, frequencyRatio, evicted, lowPrecision);
    }

    public AdaptivePolicy withRecoveryThreshold(double recoveryThreshold) {
        return new AdaptivePolicy(sinks, recoveryThreshold, localRatio, frequencyRatio, evicted, lowPrecision);
    }

    public AdaptivePolicy withLocalRatio(double localRatio) {
        return new AdaptivePolicy(sinks, recoveryThreshold, localRatio, frequencyRatio, evicted, lowPrecision);
    }

    public AdaptivePolicy withFrequencyRatio(double frequencyRatio) {
        return new AdaptivePolicy(sinks, recoveryThreshold, localRatio, frequencyRatio, evicted, lowPrecision);
    }

    /** Left-out tokens kept in low precision, stored as {@code low} says. */
    public AdaptivePolicy withEvictedToLowPrecision(LowPrecision low) {
        return new AdaptivePolicy(sinks, recoveryThreshold, localRatio, frequencyRatio, Evicted.LOW_PRECISION, low);
    }

    public AdaptivePolicy withEvicted(Evicted evicted) {
        return new AdaptivePolicy(sinks, recoveryThreshold, localRatio, frequencyRatio, evicted, lowPrecision);
    }

    @Override
    public String name() {
        return "adaptive";
    }

    @Override
    public StorageLayout layout() {
        StorageLayout tracking = StorageLayout.FULL.positionsIn(0).trackingAttention();
        return evicted == Evicted.LOW_PRECISION ? tracking.demotingTo(lowPrecision) : tracking;
    }

    @Override
    public HeadPolicy initialHeadPolicy() {
        return HeadPolicy.keepAll("full (not yet profiled)");
    }

    @Override
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("sinks", Integer.toString(sinks));
        s.put("adaptive.recovery-threshold", PolicyChecks.format(recoveryThreshold));
        s.put("adaptive.local-ratio", PolicyChecks.format(localRatio));
        s.put("adaptive.frequency-ratio", PolicyChecks.format(frequencyRatio));
        s.put("adaptive.evicted", evicted.value());
        if (evicted == Evicted.LOW_PRECISION) {
            s.putAll(lowPrecision.settings());
        }
        return s;
    }

    /** Before its prompt is profiled a head keeps every entry: the most any of its choices keeps. */
    @Override
    public EntryCounts entriesAt(int length) {
        return new EntryCounts(length, 0, 0);
    }

    /** Every head of the layer is profiled in the prompt's own attention pass. */
    @Override
    public PromptAttention.AttentionRows[] promptObservers(KvCache cache, int layer) {
        FastGenProfile[] profiles = new FastGenProfile[cache.kvHeads()];
        for (int h = 0; h < profiles.length; h++) {
            profiles[h] = profile(cache, layer, h);
        }
        return profiles;
    }

    /** Fixes every head's policy to the cheapest candidate that recovers T of its prompt attention. */
    @Override
    public void afterPrompt(KvCache cache, int layer, PromptAttention prompt) {
        for (int h = 0; h < cache.kvHeads(); h++) {
            FastGenProfile profile = (FastGenProfile) prompt.observed(h);
            cache.setHeadPolicy(layer, h, candidate(profile.choose(recoveryThreshold)));
        }
    }

    /** A profile of the prompt's attention for one head of an owning layer (before the prompt's attention runs). */
    FastGenProfile profile(KvCache cache, int layer, int kvHead) {
        return new FastGenProfile(cache.head(layer, kvHead), cache, sinks, frequencyRatio, localRatio);
    }

    /** Keep everything until profiled, then one of FastGen's candidates. */
    @Override
    public java.util.List<HeadPolicy> headPolicies() {
        java.util.List<HeadPolicy> all = new java.util.ArrayList<>();
        all.add(initialHeadPolicy());
        for (int c = 0; c < FastGenProfile.CANDIDATES.length; c++) {
            all.add(candidate(c));
        }
        return all;
    }

    /** FastGen's candidate {@code index} (see {@link FastGenProfile#CANDIDATES}) as a head policy. */
    HeadPolicy candidate(int index) {
        if (index == FastGenProfile.CANDIDATES.length - 1) {
            return HeadPolicy.keepAll("full");
        }
        HeadPolicy.Rest rest = evicted == Evicted.LOW_PRECISION ? HeadPolicy.Rest.LOW_PRECISION : HeadPolicy.Rest.DROP;
        return new HeadPolicy(FastGenProfile.CANDIDATES[index], false, 0, index >= 3 ? localRatio : 0,
                index >= 2 ? frequencyRatio : 0, true, index >= 1, rest);
    }
}
