package io.kvcache.core.kv;

import io.kvcache.core.model.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The bytes a sequence's KV cache holds at a given length under a {@link KvCacheConfig}, computed
 * from the policy's {@link KvPolicy#entriesAt entry counts} and the storage layout's bytes per
 * entry: the same figures {@link KvCache#memory()} reports for a cache that reached that length in
 * one forward call, which is the most a sequence of that length holds. Every head of a global layer
 * holding its own cache holds the same, so a head's bytes are multiplied by those heads (under
 * adaptive budgets, {@link BudgetAllocation}, the heads of a layer hold different counts that sum
 * to the same; a head's bytes are linear in its count, or concave where a quantized kv-type's fp16
 * residual makes its first entries the dearest, so the layer holds at most this); a
 * sliding-window layer's head holds at most its window less one entry after a call (the positions the
 * next query sees besides its own), which bounds its bytes (see {@link #windowedBytes}). Where the quality
 * guardrail may move heads ({@link Guardrail}), that many heads are counted at the most a moved head
 * holds: one entry per token seen, each at the dearest class's bytes.
 */
public final class KvFootprint {
    private final KvPolicy policy;
    private final StorageLayout layout;
    private final int keyDim;
    private final int valueDim;
    private final int kvHeads;
    /** The windows of the sliding-window layers holding their own cache, one entry per layer. */
    private final int[] slidingWindows;
    private final long globalHeads;
    /** Heads the guardrail may move in one sequence. */
    private final int movableHeads;

    /**
     * @throws IllegalArgumentException when the config's layer sharing does not fit the model
     */
    public KvFootprint(ModelConfig model, KvCacheConfig config) {
        this.policy = config.policy();
        this.layout = config.layout();
        // the widest heads: Gemma 4's narrower sliding heads are counted at its global width, an upper bound
        this.keyDim = model.headDim();
        this.valueDim = model.valueDim();
        this.kvHeads = model.kvHeads();
        int[] owners = KvCache.owners(config, model);
        int global = 0;
        List<Integer> windows = new ArrayList<>();
        for (int layer = 0; layer < owners.length; layer++) {
            if (owners[layer] == layer) {
                if (model.attention(layer).sliding()) {
                    windows.add(model.attention(layer).window());
                } else {
                    global++;
                }
            }
        }
        this.slidingWindows = windows.stream().mapToInt(Integer::intValue).toArray();
        this.globalHeads = (long) global * kvHeads;
        this.movableHeads = config.movableHeads((global + slidingWindows.length) * kvHeads);
    }

    /** Bytes held by a sequence of {@code tokens} tokens. */
    public long bytesAt(int tokens) {
        EntryCounts counts = policy.entriesAt(tokens);
        long global = layout.bytesOf(counts, keyDim, valueDim);
        long bytes = globalHeads * global;
        long[] movedExtra = new long[movableHeads == 0 ? 0 : slidingWindows.length + 1];
        if (movedExtra.length > 0) {
            movedExtra[0] = movedBytes(tokens) - global;
        }
        for (int i = 0; i < slidingWindows.length; i++) {
            int held = Math.min(tokens, slidingWindows[i] - 1);
            long windowedBytes = windowedBytes(counts, held);
            bytes += kvHeads * windowedBytes;
            if (movedExtra.length > 0) {
                movedExtra[i + 1] = movedBytes(held) - windowedBytes;
            }
        }
        return bytes + movedExtra(movedExtra);
    }

    /**
     * What the guardrail's moves add at most: the movable heads taken from the layers where moving
     * adds the most ({@code extra[0]}: each global layer's heads, then each sliding layer's).
     */
    private long movedExtra(long[] extra) {
        if (extra.length == 0) {
            return 0;
        }
        long[] perHead = new long[(int) (globalHeads + (long) (extra.length - 1) * kvHeads)];
        int n = 0;
        for (long h = 0; h < globalHeads; h++) {
            perHead[n++] = extra[0];
        }
        for (int i = 1; i < extra.length; i++) {
            for (int h = 0; h < kvHeads; h++) {
                perHead[n++] = extra[i];
            }
        }
        Arrays.sort(perHead);
        long added = 0;
        for (int i = 0; i < movableHeads && i < n; i++) {
            added += Math.max(0, perHead[n - 1 - i]);
        }
        return added;
    }

    /**
     * The most a moved head holds after {@code entries} tokens: one entry each, the entries kept
     * as computed costing their fp16 residual first and codes after it, any other class at its
     * dearest. As kept bytes grow piecewise linearly, the most is at one of three splits: all kept,
     * all in the dearest other class, or only the residual kept.
     */
    private long movedBytes(int entries) {
        long other = 0;
        if (layout.lowBits() > 0) {
            other = layout.lowPrecisionEntryBytes(keyDim, valueDim);
        }
        if (layout.merges()) {
            other = Math.max(other, layout.mergedEntryBytes(keyDim, valueDim));
        }
        long most = layout.keptBytes(entries, layout.mostRuns(entries), keyDim, valueDim);
        if (other > 0) {
            int residual = Math.min(layout.residual(), entries);
            most = Math.max(most, Math.max((long) entries * other,
                    (long) (entries - residual) * other + layout.keptBytes(residual, layout.mostRuns(residual), keyDim, valueDim)));
        }
        return most + layout.headBytes(keyDim);
    }

    /**
     * At most {@code held} of the policy's {@code counts}, which classes they fall in unknown (the
     * window keeps the latest positions, whatever class the policy gave them): the largest bytes
     * of any order of filling the classes.
     */
    private long windowedBytes(EntryCounts counts, int held) {
        int[] available = {counts.kept(), counts.lowPrecision(), counts.merged()};
        int[][] orders = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
        long most = 0;
        for (int[] order : orders) {
            int[] take = new int[3];
            int left = held;
            for (int c : order) {
                take[c] = Math.min(available[c], left);
                left -= take[c];
            }
            most = Math.max(most, layout.bytesOf(new EntryCounts(take[0], take[1], take[2],
                    Math.min(take[0], counts.keptRuns())), keyDim, valueDim));
        }
        return most;
    }

    /**
     * The most bytes a sequence holds on its way to {@code tokens} tokens. Where bytes can fall
     * back ({@link KvPolicy#sizingPeriod()}), each peak is above the one before, so the largest
     * of the last period of lengths is the largest on the whole way.
     */
    public long peakUpTo(int tokens) {
        long peak = 0;
        for (int length = Math.max(1, tokens - policy.sizingPeriod() + 1); length <= tokens; length++) {
            peak = Math.max(peak, bytesAt(length));
        }
        return peak;
    }
}
