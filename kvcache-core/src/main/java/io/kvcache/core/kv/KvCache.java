package io.kvcache.core.kv;

import io.kvcache.core.model.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The key/value cache of one sequence, per layer and per key/value head, with the policy that
 * compresses it, plus the token ids of the sequence so far. A forward pass appends entries as it
 * evaluates tokens, calls {@link #afterPrompt} in each layer that holds its own cache once the
 * prompt's attention has run, and {@link #compact()} after each call, which applies every head's
 * {@link HeadPolicy}. Layers that share another layer's cache hold nothing themselves.
 */
public final class KvCache {
    private final HeadCache[][] heads;
    private final int[] owners;
    private final HeadPolicy[][] headPolicies;
    private final KvCacheConfig config;
    private final TokenClasses classes;
    private final StorageLayout layout;
    private final int keyDim;
    private final int capacity;
    private final Compactor compactor = new Compactor();
    private int[] tokens;
    private int length;

    /** An empty {@code full} cache for up to {@code capacity} positions of a model shaped like {@code model}. */
    public KvCache(ModelConfig model, int capacity) {
        this(model, capacity, KvCacheConfig.full(), TokenClasses.ordinary(model.vocabularySize()));
    }

    /**
     * An empty cache run by {@code config}; {@code classes} tells special and punctuation tokens apart.
     *
     * @throws IllegalArgumentException when the capacity exceeds the model's context, or the layer
     *                                  groups of the config do not fit the model
     */
    public KvCache(ModelConfig model, int capacity, KvCacheConfig config, TokenClasses classes) {
        if (capacity <= 0 || capacity > model.contextLength()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " must be between 1 and the model's context length "
                    + model.contextLength());
        }
        this.capacity = capacity;
        this.config = config;
        this.classes = classes;
        this.keyDim = model.headDim();
        this.layout = config.policy().layout();
        this.owners = owners(config, model);
        this.heads = new HeadCache[model.layers()][model.kvHeads()];
        this.headPolicies = new HeadPolicy[model.layers()][model.kvHeads()];
        HeadPolicy initial = config.policy().initialHeadPolicy();
        for (int layer = 0; layer < heads.length; layer++) {
            for (int h = 0; h < model.kvHeads(); h++) {
                if (owners[layer] == layer) {
                    heads[layer][h] = new HeadCache(keyDim, model.valueDim(), layout);
                }
                headPolicies[layer][h] = initial;
            }
        }
        for (int layer = 0; layer < heads.length; layer++) {
            heads[layer] = heads[owners[layer]];
        }
        this.tokens = new int[Math.min(capacity, 256)];
    }

    /**
     * The layer each layer attends to: the model's own sharing when its checkpoint declares one
     * (LCKV {@code layer_types}), otherwise the first layer of the config's sharing group, or itself.
     */
    static int[] owners(KvCacheConfig config, ModelConfig model) {
        boolean declared = false;
        for (int layer = 0; layer < model.layers(); layer++) {
            declared |= model.kvLayer(layer) != layer;
        }
        if (!declared) {
            return config.layerSharing().owners(model.layers());
        }
        if (config.layerSharing().shares()) {
            throw new IllegalArgumentException("kvcache.policy: this model already shares keys and values across layers "
                    + "(its layer_types); layer-condensed sharing cannot be added on top");
        }
        return model.kvLayers().stream().mapToInt(Integer::intValue).toArray();
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

    /** Fixes the policy of one head of an owning layer (a policy deciding per head, e.g. from its prompt profile). */
    void setHeadPolicy(int layer, int kvHead, HeadPolicy policy) {
        headPolicies[layer][kvHead] = policy;
    }

    public KvCacheConfig config() {
        return config;
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

    /** The class (special, punctuation, ordinary) of the token at {@code position}. */
    TokenClass tokenClass(int position) {
        return classes.of(tokens[position]);
    }

    /** Records that {@code token} is evaluated at the next position. */
    public void advance(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.min(capacity, tokens.length * 2));
        }
        tokens[length++] = token;
    }

    /**
     * Lets the storage and the policy look at the prompt of one layer that holds its own cache:
     * heads that balance keys fix their factors from the prompt's keys and queries, and the
     * policy may decide per head (see {@link KvPolicy#afterPrompt}). The forward pass calls it in
     * the first forward call of an empty sequence, after that layer's attention.
     */
    public void afterPrompt(int layer, PromptAttention prompt) {
        if (layout.balancesKeys()) {
            for (int h = 0; h < kvHeads(); h++) {
                float[] queries = prompt.queries(h);
                heads[layer][h].setKeyBalance(KeyBalance.fromPrefill(prompt.keys(h), 0, prompt.count(), queries, 0,
                        queries.length / keyDim, keyDim));
            }
        }
        config.policy().afterPrompt(this, layer, prompt);
    }

    /** Applies every head's policy; called after each forward call. */
    public void compact() {
        int sinks = config.policy().sinks();
        for (int layer = 0; layer < heads.length; layer++) {
            if (ownsLayer(layer)) {
                for (int h = 0; h < heads[layer].length; h++) {
                    compactor.apply(heads[layer][h], headPolicies[layer][h], length, sinks, this);
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
        long fullPerHead = length * StorageLayout.FULL.keptEntryBytes(keyDim, heads[owners[0]][0].valueDim());
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
