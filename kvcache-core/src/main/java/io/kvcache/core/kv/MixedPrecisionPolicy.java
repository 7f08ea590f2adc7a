package io.kvcache.core.kv;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code mixed-precision} (MiKV): the sinks and an important share of the sequence (half recent
 * tokens, half heavy hitters) as computed, every other entry demoted to low precision instead of
 * evicted. The important entries are stored at the cache's {@link KvType} (fp16 unless
 * {@code kvcache.kv-type} says otherwise). With {@link BudgetAllocation#ADAPTIVE} the heads of a
 * layer share their heavy hitters by attention (Ada-KV) instead of keeping the same number each.
 *
 * @param sinks          first tokens kept as computed
 * @param importantRatio share of the sequence kept at high precision
 * @param lowPrecision     how the other entries are stored
 * @param budgetAllocation how a layer's heavy hitters are shared among its heads
 */
public record MixedPrecisionPolicy(int sinks, double importantRatio, LowPrecision lowPrecision,
                                   BudgetAllocation budgetAllocation) implements KvPolicy {
    /** 0.1 at 4 bits: KL 0.002 at 54-72% of the memory, where 3 bits cost five times the KL for 7% less (docs/kv-quality.md). */
    public static final double DEFAULT_IMPORTANT_RATIO = 0.1;
    /** MiKV's equal shares unless asked: see docs/kv-quality.md for what adaptive budgets change. */
    public static final BudgetAllocation DEFAULT_BUDGET_ALLOCATION = BudgetAllocation.UNIFORM;
    public static final MixedPrecisionPolicy DEFAULT = new MixedPrecisionPolicy(DEFAULT_SINKS, DEFAULT_IMPORTANT_RATIO,
            LowPrecision.DEFAULT, DEFAULT_BUDGET_ALLOCATION);

    public MixedPrecisionPolicy {
        PolicyChecks.sinks(sinks);
        PolicyChecks.ratio("mixed-precision.important-ratio", importantRatio);
        if (lowPrecision == null) {
            throw new IllegalArgumentException("mixed-precision: the low-precision storage must be given");
        }
        if (budgetAllocation == null) {
            throw new IllegalArgumentException("mixed-precision: the budget allocation must be given");
        }
    }

    public MixedPrecisionPolicy withSinks(int sinks) {
        return new MixedPrecisionPolicy(sinks, importantRatio, lowPrecision, budgetAllocation);
    }

    public MixedPrecisionPolicy withImportantRatio(double importantRatio) {
        return new MixedPrecisionPolicy(sinks, importantRatio, lowPrecision, budgetAllocation);
    }

    public MixedPrecisionPolicy withLowPrecision(LowPrecision lowPrecision) {
        return new MixedPrecisionPolicy(sinks, importantRatio, lowPrecision, budgetAllocation);
    }

    public MixedPrecisionPolicy withBudgetAllocation(BudgetAllocation budgetAllocation) {
        return new MixedPrecisionPolicy(sinks, importantRatio, lowPrecision, budgetAllocation);
    }

    @Override
    public String name() {
        return "mixed-precision";
    }

    @Override
    public StorageLayout layout() {
        return StorageLayout.FULL.positionsIn(0).trackingAttention().demotingTo(lowPrecision);
    }

    @Override
    public HeadPolicy initialHeadPolicy() {
        return HeadPolicy.evicting(name(), 0, importantRatio / 2, importantRatio / 2, HeadPolicy.Rest.LOW_PRECISION);
    }

    @Override
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("sinks", Integer.toString(sinks));
        s.put("mixed-precision.important-ratio", PolicyChecks.format(importantRatio));
        s.putAll(lowPrecision.settings());
        s.put("mixed-precision.budget-allocation", budgetAllocation.value());
        return s;
    }

    @Override
    public EntryCounts entriesAt(int length) {
        int kept = initialHeadPolicy().keptAt(length, sinks);
        return new EntryCounts(kept, length - kept, 0);
    }
}
