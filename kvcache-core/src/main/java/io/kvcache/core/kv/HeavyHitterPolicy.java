package io.kvcache.core.kv;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code heavy-hitter} (H2O): the sinks, a recent share of the sequence and the share with the
 * most accumulated attention; the rest is dropped. With an observation window (SnapKV), the
 * prompt's entries are scored by the attention of the prompt's last queries alone, pooled over
 * neighbours (see {@link ObservationWindow}), instead of by every prompt query's; decoding adds to
 * those scores as before. With {@link BudgetAllocation#ADAPTIVE} the heads of a layer share their
 * heavy hitters by attention (Ada-KV) instead of keeping the same number each.
 *
 * @param sinks             first tokens kept
 * @param recentRatio       share of the sequence kept as its most recent tokens
 * @param heavyRatio        share kept by accumulated attention
 * @param observationWindow the prompt's last queries that score its entries; 0 scores with every query (H2O)
 * @param budgetAllocation  how a layer's heavy hitters are shared among its heads
 */
public record HeavyHitterPolicy(int sinks, double recentRatio, double heavyRatio, int observationWindow,
                                BudgetAllocation budgetAllocation) implements KvPolicy {
    public static final double DEFAULT_RECENT_RATIO = 0.1;
    public static final double DEFAULT_HEAVY_RATIO = 0.1;
    /** H2O's scores unless asked: see docs/kv-quality.md for what a window of 32 changes. */
    public static final int DEFAULT_OBSERVATION_WINDOW = 0;
    /** H2O's equal shares unless asked: see docs/kv-quality.md for what adaptive budgets change. */
    public static final BudgetAllocation DEFAULT_BUDGET_ALLOCATION = BudgetAllocation.UNIFORM;
    public static final HeavyHitterPolicy DEFAULT = new HeavyHitterPolicy(DEFAULT_SINKS, DEFAULT_RECENT_RATIO,
            DEFAULT_HEAVY_RATIO, DEFAULT_OBSERVATION_WINDOW, DEFAULT_BUDGET_ALLOCATION);

    public HeavyHitterPolicy {
        PolicyChecks.sinks(sinks);
        PolicyChecks.ratio("heavy-hitter.recent-ratio", recentRatio);
        PolicyChecks.ratio("heavy-hitter.heavy-ratio", heavyRatio);
        PolicyChecks.integer("heavy-hitter.observation-window", observationWindow, 0, 1 << 24);
        if (budgetAllocation == null) {
            throw new IllegalArgumentException("heavy-hitter: the budget allocation must be given");
        }
    }

    public HeavyHitterPolicy withSinks(int sinks) {
        return new HeavyHitterPolicy(sinks, recentRatio, heavyRatio, observationWindow, budgetAllocation);
    }

    public HeavyHitterPolicy withRecentRatio(double recentRatio) {
        return new HeavyHitterPolicy(sinks, recentRatio, heavyRatio, observationWindow, budgetAllocation);
    }

    public HeavyHitterPolicy withHeavyRatio(double heavyRatio) {
        return new HeavyHitterPolicy(sinks, recentRatio, heavyRatio, observationWindow, budgetAllocation);
    }

    public HeavyHitterPolicy withObservationWindow(int observationWindow) {
        return new HeavyHitterPolicy(sinks, recentRatio, heavyRatio, observationWindow, budgetAllocation);
    }

    public HeavyHitterPolicy withBudgetAllocation(BudgetAllocation budgetAllocation) {
        return new HeavyHitterPolicy(sinks, recentRatio, heavyRatio, observationWindow, budgetAllocation);
    }

    @Override
    public String name() {
        return "heavy-hitter";
    }

    @Override
    public StorageLayout layout() {
        return StorageLayout.FULL.positionsIn(0).trackingAttention();
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
        s.put("heavy-hitter.observation-window", Integer.toString(observationWindow));
        s.put("heavy-hitter.budget-allocation", budgetAllocation.value());
        return s;
    }

    @Override
    public EntryCounts entriesAt(int length) {
        return new EntryCounts(initialHeadPolicy().keptAt(length, sinks), 0, 0);
    }

    /** With an observation window: the window's queries are watched in the prompt's attention pass. */
    @Override
    public PromptAttention.AttentionRows[] promptObservers(KvCache cache, int layer) {
        if (observationWindow == 0) {
            return null;
        }
        ObservationWindow[] windows = new ObservationWindow[cache.kvHeads()];
        for (int h = 0; h < windows.length; h++) {
            windows[h] = new ObservationWindow(cache.head(layer, h).keptEntries(), cache.length() - observationWindow);
        }
        return windows;
    }

    /** With an observation window: every head's prompt entries get the window's scores before the first compaction. */
    @Override
    public void afterPrompt(KvCache cache, int layer, PromptAttention prompt) {
        if (observationWindow == 0) {
            return;
        }
        for (int h = 0; h < cache.kvHeads(); h++) {
            cache.head(layer, h).rescoreKept(((ObservationWindow) prompt.observed(h)).scores());
        }
    }
}
