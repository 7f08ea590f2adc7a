package io.kvcache.core.kv;

import io.kvcache.core.model.LayerAttention;
import io.kvcache.core.model.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A sequence held on the host: its token ids and its key/value cache, per layer and per key/value
 * head, with the policy that compresses it. A forward pass appends entries as it
 * evaluates tokens, calls {@link #afterPrompt} in each layer that holds its own cache once the
 * prompt's attention has run, and {@link #compact()} after each call, which applies every head's
 * {@link HeadPolicy}. Layers that share another layer's cache hold nothing themselves. A
 * sliding-window layer holds at most its window, whatever the policy: compaction first drops what
 * the next query can no longer see, then applies the policy to the rest.
 */
public final class KvCache implements Sequence {
    private final HeadCache[][] heads;
    private final int[] owners;
    private final HeadPolicy[][] headPolicies;
    /** Per layer, its sliding window (0: it sees every position). */
    private final int[] windows;
    /** Per layer, the first position compaction has not dropped for its window. */
    private final int[] windowFloors;
    private final KvCacheConfig config;
    private final TokenClasses classes;
    private final StorageLayout layout;
    private final TokenSequence tokens;
    private final Compactor compactor = new Compactor();
    /** The heads of a layer that share its heavy-hitter budget in one compaction (see {@link BudgetAllocation}). */
    private final HeadCache[] layerGroup;
    /** Per owning layer and head, the guardrail's moving mean of exposed attention, and the calls it has watched. */
    private final float[][] exposure;
    private final int[][] watchedCalls;
    /** Heads the guardrail may still move: its share of the owning heads, less those moved. */
    private int movesLeft;
    /** Whether a forward call has been compacted since the sequence was empty (the next one is not the prompt). */
    private boolean pastPrompt;

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
        this.tokens = new TokenSequence(capacity);
        this.config = config;
        this.classes = classes;
        this.layout = config.layout();
        this.owners = owners(config, model);
        this.heads = new HeadCache[model.layers()][model.kvHeads()];
        this.windows = new int[model.layers()];
        for (int layer = 0; layer < windows.length; layer++) {
            windows[layer] = model.attention(owners[layer]).window();
        }
        this.windowFloors = new int[model.layers()];
        this.headPolicies = new HeadPolicy[model.layers()][model.kvHeads()];
        HeadPolicy initial = config.policy().initialHeadPolicy();
        for (int layer = 0; layer < heads.length; layer++) {
            for (int h = 0; h < model.kvHeads(); h++) {
                if (owners[layer] == layer) {
                    heads[layer][h] = new HeadCache(model.attention(layer).headDim(), model.attention(layer).valueDim(), layout);
                }
                headPolicies[layer][h] = initial;
            }
        }
        for (int layer = 0; layer < heads.length; layer++) {
            heads[layer] = heads[owners[layer]];
        }
        this.exposure = new float[model.layers()][model.kvHeads()];
        this.watchedCalls = new int[model.layers()][model.kvHeads()];
        this.movesLeft = config.movableHeads(owningHeads());
        this.layerGroup = new HeadCache[model.kvHeads()];
    }

    private KvCache(KvCache other) {
        this.config = other.config;
        this.classes = other.classes;
        this.layout = other.layout;
        this.owners = other.owners;
        this.windows = other.windows;
        this.windowFloors = other.windowFloors.clone();
        this.tokens = other.tokens.copy();
        this.exposure = deepCopy(other.exposure);
        this.watchedCalls = new int[other.watchedCalls.length][];
        for (int layer = 0; layer < watchedCalls.length; layer++) {
            watchedCalls[layer] = other.watchedCalls[layer].clone();
        }
        this.movesLeft = other.movesLeft;
        this.pastPrompt = other.pastPrompt;
        this.layerGroup = new HeadCache[other.layerGroup.length];
        this.heads = new HeadCache[other.heads.length][];
        this.headPolicies = new HeadPolicy[other.heads.length][];
        for (int layer = 0; layer < heads.length; layer++) {
            headPolicies[layer] = other.headPolicies[layer].clone();
            if (owners[layer] == layer) {
                heads[layer] = new HeadCache[other.heads[layer].length];
                for (int h = 0; h < heads[layer].length; h++) {
                    heads[layer][h] = other.heads[layer][h].copy();
                }
            }
        }
        for (int layer = 0; layer < heads.length; layer++) {
            heads[layer] = heads[owners[layer]];
        }
    }

    private static float[][] deepCopy(float[][] rows) {
        float[][] copy = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            copy[i] = rows[i].clone();
        }
        return copy;
    }

    /** Heads holding their own cache. */
    private int owningHeads() {
        int count = 0;
        for (int layer = 0; layer < heads.length; layer++) {
            if (ownsLayer(layer)) {
                count += heads[layer].length;
            }
        }
        return count;
    }

    /** An independent cache of the same sequence: tokens, entries, per-head policies and the guardrail's watch, copied. */
    @Override
    public KvCache copy() {
        return new KvCache(this);
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
            int[] owners = config.layerSharing().owners(model.layers());
            for (int layer = 0; layer < owners.length; layer++) {
                LayerAttention mine = model.attention(layer);
                LayerAttention theirs = model.attention(owners[layer]);
                if (mine.headDim() != theirs.headDim() || mine.valueDim() != theirs.valueDim()) {
                    throw new IllegalArgumentException("kvcache.policy: layer-condensed sharing would let layer " + layer
                            + " attend to layer " + owners[layer] + "'s cache, whose heads are " + theirs.headDim() + "/"
                            + theirs.valueDim() + " wide against its " + mine.headDim() + "/" + mine.valueDim());
                }
            }
            return owners;
        }
        if (config.layerSharing().shares()) {
            throw new IllegalArgumentException("kvcache.policy: this model already shares keys and values across layers "
                    + "(its layer_types, or Gemma 4's shared_kv_layers); layer-condensed sharing cannot be added on top");
        }
        return model.kvLayers().stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Whether this cache's keys are stored Hadamard-rotated (see {@link KvType}): the forward pass
     * then rotates every key it appends and every query it scores against them alike.
     */
    public boolean rotatesKeys() {
        return layout.rotatesKeys();
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

    /**
     * Sets the policy of one head of an owning layer in a restored cache.
     *
     * @throws IllegalArgumentException when the layer attends to another's cache, or the policy is
     *                                  none this cache's policy may give a head
     */
    public void restoreHeadPolicy(int layer, int kvHead, HeadPolicy policy) {
        if (!ownsLayer(layer)) {
            throw new IllegalArgumentException("layer " + layer + " attends to layer " + owners[layer] + "'s cache");
        }
        if (!config.headPolicies().contains(policy)) {
            throw new IllegalArgumentException("head policy " + policy.name() + " is none that " + config.policy().name()
                    + " gives a head");
        }
        if (policy.equals(Guardrail.MOVED)) {
            if (movesLeft == 0) {
                throw new IllegalArgumentException("more heads moved by the guardrail than its max-heads allows");
            }
            movesLeft--;
        }
        setHeadPolicy(layer, kvHead, policy);
    }

    /**
     * Sets what the guardrail has watched of one head of an owning layer in a restored cache, which
     * continues past its prompt.
     *
     * @param exposure the moving mean of the head's exposed attention
     * @param calls    forward calls watched
     * @throws IllegalArgumentException when the guardrail does not watch this cache, or the figures are out of range
     */
    public void restoreWatch(int layer, int kvHead, float exposure, int calls) {
        if (!config.watched()) {
            throw new IllegalArgumentException("the guardrail does not watch this cache");
        }
        if (!ownsLayer(layer)) {
            throw new IllegalArgumentException("layer " + layer + " attends to layer " + owners[layer] + "'s cache");
        }
        if (!(exposure >= 0 && exposure <= 1) || calls < 0) {
            throw new IllegalArgumentException("head " + layer + "/" + kvHead + ": exposure " + exposure + " over " + calls
                    + " calls is out of range");
        }
        this.exposure[layer][kvHead] = exposure;
        this.watchedCalls[layer][kvHead] = calls;
        this.pastPrompt = tokens.length() > 0;
    }

    /** The guardrail's moving mean of one head's exposed attention (0 where it watches nothing). */
    public float exposure(int layer, int kvHead) {
        return exposure[owners[layer]][kvHead];
    }

    /** Forward calls the guardrail has watched of one head. */
    public int watchedCalls(int layer, int kvHead) {
        return watchedCalls[owners[layer]][kvHead];
    }

    /** Whether the guardrail has moved one head to keeping everything. */
    public boolean moved(int layer, int kvHead) {
        return headPolicy(layer, kvHead).equals(Guardrail.MOVED);
    }

    /** Fixes the policy of one head of an owning layer (a policy deciding per head, e.g. from its prompt profile). */
    void setHeadPolicy(int layer, int kvHead, HeadPolicy policy) {
        headPolicies[layer][kvHead] = policy;
    }

    @Override
    public KvCacheConfig config() {
        return config;
    }

    @Override
    public TokenSequence tokens() {
        return tokens;
    }

    public int layers() {
        return heads.length;
    }

    public int kvHeads() {
        return heads[0].length;
    }

    /** The class (special, punctuation, ordinary) of the token at {@code position}. */
    TokenClass tokenClass(int position) {
        return classes.of(tokens.token(position));
    }

    /** Records that {@code token} is evaluated at the next position (its entries are appended head by head). */
    public void advance(int token) {
        tokens.advance(token);
    }

    /**
     * The policy's observers of the prompt's attention in a layer (see
     * {@link KvPolicy#promptObservers}), one per KV head, null where none (a null array where the
     * policy observes nothing); the forward pass calls
     * it in the first forward call of an empty sequence, before that layer's attention.
     */
    public PromptAttention.AttentionRows[] promptObservers(int layer) {
        PromptAttention.AttentionRows[] observers = config.policy().promptObservers(this, layer);
        if (observers == null) {
            return null;
        }
        if (observers.length != kvHeads()) {
            throw new IllegalStateException(config.policy().name() + " observes " + observers.length
                    + " heads of a layer that has " + kvHeads());
        }
        for (int h = 0; h < observers.length; h++) {
            if (observers[h] != null && !heads[layer][h].layout().tracksAttention()) {
                throw new IllegalStateException(config.policy().name() + " observes head " + h + " of layer " + layer
                        + ", which does not track attention");
            }
        }
        return observers;
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
                        queries.length / heads[layer][h].keyDim(), heads[layer][h].keyDim()));
            }
        }
        config.policy().afterPrompt(this, layer, prompt);
    }

    /**
     * Drops from each sliding-window layer what the next query cannot see, then applies every
     * head's policy; called after each forward call.
     */
    public void compact() {
        int sinks = config.policy().sinks();
        int length = tokens.length();
        boolean pooled = config.policy().budgetAllocation() == BudgetAllocation.ADAPTIVE;
        HeadPolicy initial = config.policy().initialHeadPolicy();
        for (int layer = 0; layer < heads.length; layer++) {
            if (ownsLayer(layer)) {
                int floor = windows[layer] > 0 ? length - windows[layer] + 1 : 0;
                int together = 0;
                for (int h = 0; h < heads[layer].length; h++) {
                    if (floor > windowFloors[layer]) {
                        heads[layer][h].dropBefore(floor);
                    }
                    if (config.watched()) {
                        watch(layer, h);
                    }
                    // the heads the guardrail moved keep everything, outside the layer's shared budget
                    if (pooled && headPolicies[layer][h].equals(initial)) {
                        layerGroup[together++] = heads[layer][h];
                    } else {
                        compactor.apply(heads[layer][h], headPolicies[layer][h], length, sinks, this);
                    }
                }
                if (together > 0) {
                    compactor.applyTogether(layerGroup, together, initial, length, sinks, this);
                }
                windowFloors[layer] = Math.max(windowFloors[layer], floor);
            }
        }
        pastPrompt = true;
    }

    /**
     * Folds what one head's queries paid in the call into the guardrail's moving mean (not the
     * prompt's call, before which nothing was compressed), and moves the head where the mean
     * stays above the threshold.
     */
    private void watch(int layer, int h) {
        double share = heads[layer][h].takeExposure();
        if (!pastPrompt || Double.isNaN(share) || headPolicies[layer][h].keepsAll()) {
            return;
        }
        int calls = watchedCalls[layer][h];
        float mean = calls == 0 ? (float) share : exposure[layer][h] + Guardrail.SMOOTHING * ((float) share - exposure[layer][h]);
        exposure[layer][h] = Math.clamp(mean, 0f, 1f);
        watchedCalls[layer][h] = calls + 1;
        if (calls + 1 >= Guardrail.WARMUP && exposure[layer][h] > config.guardrail().threshold() && movesLeft > 0) {
            headPolicies[layer][h] = Guardrail.MOVED;
            movesLeft--;
        }
    }

    /**
     * {@code position} when the sequence can continue from there after {@link #truncate}, else 0:
     * a sliding-window layer has dropped positions its window would need again.
     */
    @Override
    public int resumablePrefix(int position) {
        for (int layer = 0; layer < windows.length; layer++) {
            if (windows[layer] > 0 && position > 0 && Math.max(0, position - windows[layer] + 1) < windowFloors[layer]) {
                return 0;
            }
        }
        return position;
    }

    /** @throws IllegalArgumentException where {@link #resumablePrefix} refuses the position */
    @Override
    public void truncate(int position) {
        if (resumablePrefix(position) != position) {
            throw new IllegalArgumentException("cannot continue from position " + position
                    + ": a sliding-window layer has dropped the positions before it that its window needs");
        }
        if (position == 0) {
            Arrays.fill(windowFloors, 0);
            forgetWatch();
        }
        tokens.truncate(position);
        for (int layer = 0; layer < heads.length; layer++) {
            if (ownsLayer(layer)) {
                for (HeadCache head : heads[layer]) {
                    head.truncate(position);
                }
            }
        }
    }

    /** A sequence started again from nothing: its heads run the policy's first per-head policy, unwatched. */
    private void forgetWatch() {
        pastPrompt = false;
        movesLeft = config.movableHeads(owningHeads());
        HeadPolicy initial = config.policy().initialHeadPolicy();
        for (int layer = 0; layer < heads.length; layer++) {
            Arrays.fill(exposure[layer], 0f);
            Arrays.fill(watchedCalls[layer], 0);
            for (int h = 0; h < headPolicies[layer].length; h++) {
                if (headPolicies[layer][h].equals(Guardrail.MOVED)) {
                    headPolicies[layer][h] = initial;
                }
            }
        }
    }

    /** Bytes of the arrays allocated for the entries of every head (at least {@link #bytesHeld}). */
    @Override
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

    @Override
    public KvMemoryReport memory() {
        int length = tokens.length();
        List<HeadMemory> report = new ArrayList<>();
        for (int layer = 0; layer < heads.length; layer++) {
            boolean owns = ownsLayer(layer);
            for (int h = 0; h < heads[layer].length; h++) {
                HeadCache head = heads[layer][h];
                long fullPerHead = StorageLayout.FULL.keptBytes(length, Math.min(length, 1), head.keyDim(), head.valueDim());
                report.add(new HeadMemory(layer, h, headPolicy(layer, h).name(), owns ? -1 : owners[layer],
                        owns ? head.keptEntries() : 0, owns ? head.lowPrecisionEntries() : 0,
                        owns ? head.mergedEntries() : 0, owns ? head.bytesHeld() : 0, fullPerHead,
                        owns && moved(layer, h) ? 1 : 0));
            }
        }
        return KvMemoryReport.of(length, report);
    }
}
