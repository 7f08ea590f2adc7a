package io.kvcache.core.kv;

import io.kvcache.core.model.LayerAttention;
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
    private final int kvHeads;
    /** The layers holding their own cache, each at its own head widths (Gemma 4's sliding heads are narrower). */
    private final List<OwnedLayer> layers;
    /** Heads the guardrail may move in one sequence. */
    private final int movableHeads;

    /** A layer holding its own cache: its window (0 where it sees every position) and head widths. */
    private record OwnedLayer(int window, int keyDim, int valueDim) {
    }

    /**
     * @throws IllegalArgumentException when the config's layer sharing does not fit the model
     */
    public KvFootprint(ModelConfig model, KvCacheConfig config) {
        this.policy = config.policy();
        this.layout = config.layout();
        this.kvHeads = model.kvHeads();
        int[] owners = KvCache.owners(config, model);
        List<OwnedLayer> owned = new ArrayList<>();
        for (int layer = 0; layer < owners.length; layer++) {
            if (owners[layer] == layer) {
                LayerAttention attention = model.attention(layer);
                owned.add(new OwnedLayer(attention.sliding() ? attention.window() : 0, attention.headDim(), attention.valueDim()));
            }
        }
        this.layers = List.copyOf(owned);
        this.movableHeads = config.movableHeads(layers.size() * kvHeads);
    }

    /** Bytes held by a sequence of {@code tokens} tokens. */
    public long bytesAt(int tokens) {
        EntryCounts counts = policy.entriesAt(tokens);
        long bytes = 0;
        long[] movedExtra = new long[movableHeads == 0 ? 0 : layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            OwnedLayer layer = layers.get(i);
            int held = layer.window() > 0 ? Math.min(tokens, layer.window() - 1) : tokens;
            long headBytes = layer.window() > 0 ? windowedBytes(counts, held, layer) : layout.bytesOf(counts, layer.keyDim(), layer.valueDim());
            bytes += kvHeads * headBytes;
            if (movedExtra.length > 0) {
                movedExtra[i] = movedBytes(held, layer) - headBytes;
            }
        }
        return bytes + movedExtra(movedExtra);
    }

    /** What the guardrail's moves add at most: the movable heads taken from the layers where moving adds the most. */
    private long movedExtra(long[] extraPerLayer) {
        if (extraPerLayer.length == 0) {
            return 0;
        }
        long[] perHead = new long[extraPerLayer.length * kvHeads];
        for (int i = 0; i < perHead.length; i++) {
            perHead[i] = extraPerLayer[i / kvHeads];
        }
        Arrays.sort(perHead);
        long added = 0;
        for (int i = 0; i < movableHeads && i < perHead.length; i++) {
            added += Math.max(0, perHead[perHead.length - 1 - i]);
        }
        return added;
    }

    /**
     * The most a moved head holds after {@code entries} tokens: one entry each, the entries kept
     * as computed costing their fp16 residual first and codes after it, any other class at its
     * dearest. As kept bytes grow piecewise linearly, the most is at one of three splits: all kept,
     * all in the dearest other class, or only the residual kept.
     */
    private long movedBytes(int entries, OwnedLayer layer) {
        int keyDim = layer.keyDim();
        int valueDim = layer.valueDim();
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
    private long windowedBytes(EntryCounts counts, int held, OwnedLayer layer) {
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
                    Math.min(take[0], counts.keptRuns())), layer.keyDim(), layer.valueDim()));
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
