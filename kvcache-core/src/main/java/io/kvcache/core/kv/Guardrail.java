package io.kvcache.core.kv;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The quality guardrail: while a conversation decodes, each compressing head's <em>exposed
 * attention</em> is watched, and a head whose exposure stays above {@code threshold} keeps every
 * entry as computed from then on ({@link #MOVED}), for the rest of the conversation.
 *
 * <p>A head's exposed attention in a forward call is the share of the attention its queries paid
 * that fell where compression has changed what they see: on entries held in low precision, on
 * merged entries, and on entries kept as computed right after positions the head no longer holds as
 * computed (the oldest entry of a window, a heavy hitter next to evicted tokens); attention landing
 * beside evicted tokens is the best sign available that the evicted ones would have drawn some too.
 * The prompt's call is not watched (nothing is compressed before its compaction). The watched
 * figure is a moving mean over the calls since, each weighing {@link #SMOOTHING}, and a head moves
 * only after {@link #WARMUP} calls, so one step's spike moves nothing.
 *
 * <p>A moved head costs what a full head costs for the tokens after its move, so at most
 * {@code maxHeads} of a sequence's heads (a share of the heads holding their own cache, rounded
 * down) move: the cache's sizing ({@link KvFootprint}) counts that many heads as full.
 *
 * @param enabled   whether heads are watched at all
 * @param threshold the moving mean of exposed attention (0 to 1) above which a head moves
 * @param maxHeads  share of the heads holding their own cache that may move in one sequence
 */
public record Guardrail(boolean enabled, double threshold, double maxHeads) {
    /**
     * Separates heavy-hitter's heads on stories260K (docs/kv-quality.md, "Quality guardrail");
     * window's exposure (one entry per gap) wants 0.02 to 0.05, span's 0.3.
     */
    public static final double DEFAULT_THRESHOLD = 0.2;
    public static final double DEFAULT_MAX_HEADS = 0.25;
    public static final Guardrail OFF = new Guardrail(false, DEFAULT_THRESHOLD, DEFAULT_MAX_HEADS);
    public static final Guardrail DEFAULT_ON = new Guardrail(true, DEFAULT_THRESHOLD, DEFAULT_MAX_HEADS);

    /** Weight of the latest call in the moving mean: about the last eight calls count. */
    public static final float SMOOTHING = 0.125f;
    /** Calls watched before a head may move. */
    public static final int WARMUP = 8;
    /** What a moved head runs. */
    public static final HeadPolicy MOVED = HeadPolicy.keepAll("full (guardrail)");

    public Guardrail {
        PolicyChecks.ratio("guardrail.threshold", threshold);
        PolicyChecks.ratio("guardrail.max-heads", maxHeads);
    }

    public Guardrail withThreshold(double threshold) {
        return new Guardrail(enabled, threshold, maxHeads);
    }

    public Guardrail withMaxHeads(double maxHeads) {
        return new Guardrail(enabled, threshold, maxHeads);
    }

    /** Heads of {@code owningHeads} that may move in one sequence, where enabled. */
    int movableHeads(int owningHeads) {
        return (int) Math.floor(maxHeads * owningHeads + 1e-9);
    }

    /** Its settings by their property names under {@code kvcache.}, as {@link KvCacheConfig#parse} reads them. */
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("guardrail.enabled", Boolean.toString(enabled));
        s.put("guardrail.threshold", PolicyChecks.format(threshold));
        s.put("guardrail.max-heads", PolicyChecks.format(maxHeads));
        return s;
    }
}
