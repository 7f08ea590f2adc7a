package io.kvcache.core.kv;

/**
 * How a layer's heavy-hitter budget is shared among its KV heads ({@code kvcache.heavy-hitter.budget-allocation},
 * {@code kvcache.mixed-precision.budget-allocation}). Every head keeps its sinks and recent tokens
 * either way; the budget is what is chosen by accumulated attention on top of them.
 */
public enum BudgetAllocation {
    /** Each head keeps the same number of heavy hitters: its share of the sequence. */
    UNIFORM("uniform"),
    /**
     * The heads of a layer pool their candidates and the layer keeps the entries with the most
     * attention of all, as many as the heads would keep together under {@link #UNIFORM} (Ada-KV):
     * a head whose attention is concentrated on few entries gives up the rest to heads whose
     * attention is spread. The attention an entry accumulates is a sum of softmax probabilities
     * over the same queries in every head, so the scores of different heads compare.
     */
    ADAPTIVE("adaptive");

    private final String value;

    BudgetAllocation(String value) {
        this.value = value;
    }

    public String value() {
        return value;
    }

    /** The allocation named {@code value}, or an error naming the property {@code key} and the choices. */
    public static BudgetAllocation of(String key, String value) {
        return PolicyChecks.named(key, value, values(), BudgetAllocation::value);
    }
}
