package io.kvcache.core.kv;

import io.kvcache.core.model.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The key/value cache of one sequence, per layer and per key/value head, with the policy that
 * compresses it, plus the token ids of the sequence so far. Entries are appended as tokens are
 * evaluated; after each forward call {@link #compact()} applies every head's {@link HeadPolicy}.
 * Layers that share another layer's cache ({@code layer-condensed}) hold nothing themselves.
 */
public final class KvCache {
    private final HeadCache[][] heads;
    private final int[] owners;
    private final HeadPolicy[][] headPolicies;
    private final KvPolicy policy;
    private final TokenClasses classes;
    private final StorageLayout layout;
    private final int keyDim;
    private final int valueDim;
    private final int capacity;
    private final Compactor compactor = new Compactor();
    private boolean profiled;
    private int[] tokens;
    private int length;

    /** An empty {@code full} cache for up to {@code capacity} positions of a model shaped like {@code config}. */
    public KvCache(ModelConfig config, int capacity) {
        this(config, capacity, KvPolicy.full(), TokenClasses.ordinary(config.vocabularySize()));
    }

    /**
     * An empty cache run by {@code policy}; {@code classes} tells special and punctuation tokens apart.
     *
     * @throws IllegalArgumentException when the capacity exceeds the model's context, or the layer
     *                                  groups of the policy do not fit the model
     */
    public KvCache(ModelConfig config, int capacity, KvPolicy policy, TokenClasses classes) {
        if (capacity <= 0 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " must be between 1 and the model's context length "
                    + config.contextLength());
        }
        this.capacity = capacity;
        this.policy = policy;
        this.classes = classes;
        this.keyDim = config.headDim();
        this.valueDim = config.valueDim();
        this.layout = layoutOf(policy);
        this.owners = owners(policy, config);
        this.heads = new HeadCache[config.layers()][config.kvHeads()];
        this.headPolicies = new HeadPolicy[config.layers()][config.kvHeads()];
        HeadPolicy initial = initialPolicy(policy);
        for (int layer = 0; layer < heads.length; layer++) {
            for (int h = 0; h < config.kvHeads(); h++) {
                if (owners[layer] == layer) {
                    heads[layer][h] = new HeadCache(keyDim, valueDim, layout);
                }
                headPolicies[layer][h] = initial;
            }
        }
        for (int layer = 0; layer < heads.length; layer++) {
            heads[layer] = heads[owners[layer]];
        }
        this.profiled = policy.kind() != KvPolicy.Kind.ADAPTIVE;
        this.tokens = new int[Math.min(capacity, 256)];
    }

    private static StorageLayout layoutOf(KvPolicy p) {
        KvPolicy.MixedPrecision mp = p.mixedPrecision();
        return switch (p.kind()) {
            case FULL, WINDOW, LAYER_CONDENSED -> StorageLayout.FULL;
            case HEAVY_HITTER -> new StorageLayout(16, 0, mp.groupSize(), false, false, true);
            case ADAPTIVE -> p.adaptive().evicted() == KvPolicy.Evicted.LOW_PRECISION
                    ? new StorageLayout(16, mp.lowBits(), mp.groupSize(), mp.balanceKeys(), false, true)
                    : new StorageLayout(16, 0, mp.groupSize(), false, false, true);
            case MIXED_PRECISION -> new StorageLayout(mp.highBits(), mp.lowBits(), mp.groupSize(), mp.balanceKeys(), false, true);
            case SPAN -> new StorageLayout(16, 0, mp.groupSize(), false, true, true);
        };
    }

    /**
     * The layer each layer attends to: the model's own sharing when its checkpoint declares one
     * (LCKV {@code layer_types}), otherwise the first layer of the policy's sharing group, or itself.
     */
    private static int[] owners(KvPolicy p, ModelConfig config) {
        int layers = config.layers();
        KvPolicy.LayerSharing sharing = p.layerSharing();
        boolean declared = false;
        for (int layer = 0; layer < layers; layer++) {
            declared |= config.kvLayer(layer) != layer;
        }
        if (declared) {
            if (!sharing.groups().isEmpty() || p.kind() == KvPolicy.Kind.LAYER_CONDENSED) {
                throw new IllegalArgumentException("kvcache.policy: this model already shares keys and values across layers "
                        + "(its layer_types); layer-condensed sharing cannot be added on top");
            }
            return config.kvLayers().stream().mapToInt(Integer::intValue).toArray();
        }
        if (p.kind() == KvPolicy.Kind.LAYER_CONDENSED && sharing.groups().isEmpty()) {
            List<int[]> pairs = new ArrayList<>();
            for (int first = 0; first + 1 < layers; first += 2) {
                pairs.add(new int[] {first, first + 1});
            }
            sharing = new KvPolicy.LayerSharing(pairs);
        }
        int[] owners = new int[layers];
        for (int layer = 0; layer < layers; layer++) {
            owners[layer] = sharing.owner(layer);
        }
        for (int[] group : sharing.groups()) {
            if (group[1] >= layers) {
                throw new IllegalArgumentException("kvcache.layer-condensed.share-groups: layer " + group[1]
                        + " does not exist; the model has layers 0 to " + (layers - 1));
            }
        }
        return owners;
    }

    private static HeadPolicy initialPolicy(KvPolicy p) {
        return switch (p.kind()) {
            case FULL, LAYER_CONDENSED -> HeadPolicy.keepAll("full");
            case ADAPTIVE -> HeadPolicy.keepAll("full (not yet profiled)");
            case WINDOW -> new HeadPolicy("window", false, p.window().recent(), 0, 0, false, false, HeadPolicy.Rest.DROP);
            case HEAVY_HITTER -> new HeadPolicy("heavy-hitter", false, 0, p.heavyHitter().recentRatio(),
                    p.heavyHitter().heavyRatio(), false, false, HeadPolicy.Rest.DROP);
            case MIXED_PRECISION -> new HeadPolicy("mixed-precision", false, 0, p.mixedPrecision().importantRatio() / 2,
                    p.mixedPrecision().importantRatio() / 2, false, false, HeadPolicy.Rest.LOW_PRECISION);
            case SPAN -> new HeadPolicy("span", false, p.span().recent(), 0, 0, false, false, HeadPolicy.Rest.MERGE);
        };
    }

    /** FastGen's candidate {@code index} (see {@link FastGenProfile#CANDIDATES}) as a head policy. */
    private HeadPolicy adaptiveCandidate(int index) {
        if (index == FastGenProfile.CANDIDATES.length - 1) {
            return HeadPolicy.keepAll("full");
        }
        KvPolicy.Adaptive a = policy.adaptive();
        HeadPolicy.Rest rest = a.evicted() == KvPolicy.Evicted.LOW_PRECISION ? HeadPolicy.Rest.LOW_PRECISION : HeadPolicy.Rest.DROP;
        return new HeadPolicy(FastGenProfile.CANDIDATES[index], false, 0, index >= 3 ? a.localRatio() : 0,
                index >= 2 ? a.frequencyRatio() : 0, true, index >= 1, rest);
    }

    public HeadCache head(int layer, int kvHead) {
        return heads[layer][kvHead];
    }

    /** Whether {@code layer} computes and stores its own keys and values (rather than attending to another layer's). */
    public boolean ownsLayer(int layer) {
        return owners[layer] == layer;
    }

    /** The layer whose cache {@code layer} attends to. */
    public int ownerOf(int layer) {
        return owners[layer];
    }

    public HeadPolicy headPolicy(int layer, int kvHead) {
        return headPolicies[owners[layer]][kvHead];
    }

    public KvPolicy policy() {
        return policy;
    }

    public int layers() {
        return heads.length;
    }

    public int kvHeads() {
        return heads[0].length;
    }

    /** Positions this cache may reach. */
    public int capacity() {
        return capacity;
    }

    /** Tokens of the sequence so far; the next one goes to this position. */
    public int length() {
        return length;
    }

    public int token(int position) {
        return tokens[position];
    }

    /** Records that {@code token} is evaluated at the next position. */
    public void advance(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.min(capacity, tokens.length * 2));
        }
        tokens[length++] = token;
    }

    /** Whether the adaptive policy still has to profile the prompt (the first forward call does). */
    public boolean needsProfile() {
        return !profiled;
    }

    /** A profile of the prompt's attention for one head of an owning layer (after its attention statistics are in). */
    public FastGenProfile profile(int layer, int kvHead) {
        return new FastGenProfile(heads[layer][kvHead], this, classes, policy.sinks(), policy.adaptive());
    }

    /** Fixes the head's policy to the cheapest candidate of {@code profile} that meets the recovery threshold. */
    public void choose(int layer, int kvHead, FastGenProfile profile) {
        headPolicies[layer][kvHead] = adaptiveCandidate(profile.choose(policy.adaptive().recoveryThreshold()));
    }

    /** Applies every head's policy; called after each forward call. */
    public void compact() {
        profiled = true;
        for (int layer = 0; layer < heads.length; layer++) {
            if (ownsLayer(layer)) {
                for (int h = 0; h < heads[layer].length; h++) {
                    compactor.apply(heads[layer][h], headPolicies[layer][h], length, policy.sinks(), this, classes, policy.span());
                }
            }
        }
    }

    /** Forgets every position from {@code position} on, so the sequence can continue from there. */
    public void truncate(int position) {
        if (position < 0 || position > length) {
            throw new IllegalArgumentException("cannot truncate a sequence of " + length + " tokens to " + position);
        }
        for (int layer = 0; layer < heads.length; layer++) {
            if (ownsLayer(layer)) {
                for (HeadCache head : heads[layer]) {
                    head.truncate(position);
                }
            }
        }
        length = position;
    }

    /** Bytes held by every head of every layer. */
    public long bytesHeld() {
        return memory().bytesHeld();
    }

    /** Bytes of the arrays allocated for the entries of every head (at least {@link #bytesHeld}). */
    public long bytesAllocated() {
        long bytes = 0;
        for (int layer = 0; layer < heads.length; layer++) {
            if (ownsLayer(layer)) {
                for (HeadCache head : heads[layer]) {
                    bytes += head.bytesAllocated();
                }
            }
        }
        return bytes;
    }

    /** Per layer and KV head: policy, entries and bytes held, and what the full cache would hold. */
    public KvMemoryReport memory() {
        long fullPerHead = (long) length * (Integer.BYTES + 2L * keyDim + 2L * valueDim);
        List<HeadMemory> report = new ArrayList<>();
        for (int layer = 0; layer < heads.length; layer++) {
            boolean owns = ownsLayer(layer);
            for (int h = 0; h < heads[layer].length; h++) {
                HeadCache head = heads[layer][h];
                report.add(new HeadMemory(layer, h, headPolicy(layer, h).name(), owns ? -1 : owners[layer],
                        owns ? head.keptEntries() : 0, owns ? head.lowPrecisionEntries() : 0,
                        owns ? head.mergedEntries() : 0, owns ? head.bytesHeld() : 0, fullPerHead));
            }
        }
        return KvMemoryReport.of(length, report);
    }
}
