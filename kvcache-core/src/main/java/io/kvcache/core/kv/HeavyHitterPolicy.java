package io.kvcache.core.kv;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code heavy-hitter} (H2O): the sinks, a recent share of the sequence and the share with the
 * most accumulated attention; the rest is dropped.
 *
 * @param sinks       first tokens kept
 * @param recentRatio share of the sequence kept as its most recent tokens
 * @param heavyRatio  share kept by accumulated attention
 */
public record HeavyHitterPolicy(int sinks, double recentRatio, double heavyRatio) implements KvPolicy {
    public static final double DEFAULT_RECENT_RATIO = 0.1;
    public static final double DEFAULT_HEAVY_RATIO = 0.1;
    public static final HeavyHitterPolicy DEFAULT = new HeavyHitterPolicy(DEFAULT_SINKS, DEFAULT_RECENT_RATIO,
            DEFAULT_HEAVY_RATIO);

    public HeavyHitterPolicy {
        PolicyChecks.sinks(sinks);
        PolicyChecks.ratio("heavy-hitter.recent-ratio", recentRatio);
        PolicyChecks.ratio("heavy-hitter.heavy-ratio", heavyRatio);
    }

    public HeavyHitterPolicy withSinks(int sinks) {
        return new HeavyHitterPolicy(sinks, recentRatio, heavyRatio);
    }

    public HeavyHitterPolicy withRecentRatio(double recentRatio) {
        return new HeavyHitterPolicy(sinks, recentRatio, heavyRatio);
    }

    public HeavyHitterPolicy withHeavyRatio(double heavyRatio) {
        return new HeavyHitterPolicy(sinks, recentRatio, heavyRatio);
    }

    @Override
    public String name() {
        return "heavy-hitter";
    }

    @Override
    public StorageLayout layout() {
        return StorageLayout.FULL.trackingAttention();
    }

    @Override
    public HeadPolicy initialHeadPolicy() {
        return HeadPolicy.evicting(name(), 0, recentRatio, heavyRatio, HeadPolicy.Rest.DROP);
    }

    @Override
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("sinks", Integer.toString(sinks));
        s.put("heavy-hitter.recent-ratio", PolicyChecks.format(recentRatio));
        s.put("heavy-hitter.heavy-ratio", PolicyChecks.format(heavyRatio));
        return s;
    }

    @Override
    public EntryCounts entriesAt(int length) {
        return new EntryCounts(initialHeadPolicy().keptAt(length, sinks), 0, 0);
    }
}
