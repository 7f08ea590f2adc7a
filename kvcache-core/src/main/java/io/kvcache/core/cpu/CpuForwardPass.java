package io.kvcache.core.cpu;

import io.kvcache.core.ContextOverflowException;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.kv.HeadCache;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.LowPrecisionAttention;
import io.kvcache.core.kv.PromptAttention;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.LayerAttention;
import io.kvcache.core.model.LayerWeights;
import io.kvcache.core.model.Model;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.ModelTraits;
import io.kvcache.core.model.ModelWeights;
import io.kvcache.core.model.QueryTemperature;
import io.kvcache.core.sampling.Sampler;
import io.kvcache.core.tensor.ComputePool;
import io.kvcache.core.tensor.Float16s;
import io.kvcache.core.tensor.Hadamard;
import io.kvcache.core.tensor.WeightMatrix;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The forward pass of a Llama-family decoder on the CPU (Vector API, {@link ComputePool} threads). A call evaluates a batch of consecutive
 * tokens of one sequence (the whole prompt at once in prefill, one token per decode step), appends
 * their keys and values to the sequence's {@link KvCache}, and returns logits.
 *
 * <p>Numerics follow llama.cpp's CPU backend so the logits compare: activations enter each weight
 * type's dot product in that type's format (see {@link WeightMatrix}), attention is computed as
 * its flash attention computes it (see {@link AttentionKernels}), and RMSNorm sums squares in double.
 * What a family adds to the Llama block ({@link ModelTraits}: scales, soft caps, post norms, GeGLU,
 * sliding windows, per-layer RoPE) is applied where llama.cpp's graph for that family applies it.
 */
public final class CpuForwardPass implements ForwardPass {
    /** Queries of one key/value head handled together, so its keys are decoded once for all of them. */
    private static final int QUERY_BLOCK = 32;
    /** Smallest batch that llama.cpp evaluates with its tiled attention: ggml's query tile, GGML_FA_TILE_Q (see {@link #usesTiledAttention}). */
    private static final int TILED_MIN_QUERIES = 64;

    private final ModelConfig config;
    private final ModelWeights weights;
    private final ComputePool pool;
    private final ModelTraits traits;
    /** Per layer, its RoPE table for sequences within the original context, or null for a layer without RoPE. */
    private final RopeTable[] ropes;
    /** The same for sequences opened for more positions (LongRoPE's long factors); {@code ropes} without them. */
    private final RopeTable[] longRopes;
    private final ThreadLocal<AttentionScratch> scratch = ThreadLocal.withInitial(AttentionScratch::new);
    /**
     * Buffers of one-token steps not in use: a step takes one and gives it back, so decoding leaves
     * no garbage, and there are never more of them than steps that ran at the same time.
     */
    private final ArrayDeque<Step> idleSteps = new ArrayDeque<>();

    public CpuForwardPass(Model model, ComputePool pool) {
        this.config = model.config();
        this.weights = model.weights();
        this.pool = pool;
        this.traits = config.traits();
        Map<RopeKey, RopeTable> tables = new HashMap<>();
        this.ropes = ropeTables(weights.ropeFactors(), tables);
        this.longRopes = traits.ropeOriginalContext() > 0 ? ropeTables(weights.longRopeFactors(), tables) : ropes;
    }

    /** Per layer, its table; layers of the same rotated width, base, scale and factors share one. */
    private RopeTable[] ropeTables(float[] factors, Map<RopeKey, RopeTable> tables) {
        RopeTable[] perLayer = new RopeTable[config.layers()];
        for (int layer = 0; layer < perLayer.length; layer++) {
            LayerAttention la = config.attention(layer);
            if (la.rotates()) {
                float[] own = la.ropeFactors() ? factors : null;
                perLayer[layer] = tables.computeIfAbsent(new RopeKey(la.ropeDims(), la.ropeBase(), la.ropeScale(), own),
                        k -> new RopeTable(la.ropeDims(), la.ropeBase(), la.ropeScale(), own, traits.ropeAttentionFactor(),
                                traits.yarn()));
            }
        }
        return perLayer;
    }

    /** What makes two layers' RoPE tables the same (the factors by identity: they are the model's arrays). */
    private record RopeKey(int dims, float base, float scale, float[] factors) {
    }

    /**
     * The RoPE tables of a sequence: LongRoPE's long factors once it was opened for more positions
     * than the original context (llama.cpp chooses by its context size the same way).
     */
    private RopeTable[] ropesFor(KvCache cache) {
        return traits.ropeOriginalContext() > 0 && cache.capacity() > traits.ropeOriginalContext() ? longRopes : ropes;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** A {@link KvCache}: the CPU keeps keys and values on the heap. */
    @Override
    public KvCache newSequence(int capacity, KvCacheConfig cacheConfig, TokenClasses classes) {
        return new KvCache(config, capacity, cacheConfig, classes);
    }

    /**
     * Evaluates {@code tokens[from, from+count)} at the next positions of {@code sequence}, a
     * {@link KvCache}, and returns logits ({@code vocabulary} floats per returned row).
     *
     * @throws ContextOverflowException when the cache cannot hold {@code count} more positions
     */
    @Override
    public float[] forward(Sequence sequence, int[] tokens, int from, int count, Logits logits) {
        KvCache cache = checked(sequence, tokens, from, count);
        if (count > 1 && config.attendsToLaterLayers()) {
            return forwardOneByOne(cache, tokens, from, count, logits);
        }
        int rows = logits == Logits.LAST ? 1 : count;
        float[] out = new float[rows * config.vocabularySize()];
        if (count == 1) {
            Step step = takeStep();
            try {
                output(evaluate(cache, tokens, from, count, step.activations), count, rows, out);
            } finally {
                giveBack(step);
            }
        } else {
            output(evaluate(cache, tokens, from, count, new Activations(config, count)), count, rows, out);
        }
        return out;
    }

    /**
     * As {@link ForwardPass#forwardAndSample}, with the logits of a one-token step in a reused
     * buffer that the caller never sees: a decode step leaves no garbage behind.
     */
    @Override
    public int forwardAndSample(Sequence sequence, int[] tokens, int from, int count, Sampler sampler, int[] history,
                                int historyLength) {
        if (count > 1) {
            return ForwardPass.super.forwardAndSample(sequence, tokens, from, count, sampler, history, historyLength);
        }
        KvCache cache = checked(sequence, tokens, from, count);
        Step step = takeStep();
        try {
            output(evaluate(cache, tokens, from, count, step.activations), count, 1, step.logits);
            return sampler.sample(step.logits, 0, config.vocabularySize(), history, historyLength);
        } finally {
            giveBack(step);
        }
    }

    private Step takeStep() {
        synchronized (idleSteps) {
            Step step = idleSteps.poll();
            return step != null ? step : new Step();
        }
    }

    private void giveBack(Step step) {
        synchronized (idleSteps) {
            idleSteps.push(step);
        }
    }

    /** The sequence as the {@link KvCache} it must be, once the tokens and the room for them are checked. */
    private KvCache checked(Sequence sequence, int[] tokens, int from, int count) {
        if (!(sequence instanceof KvCache cache)) {
            throw new IllegalArgumentException("the cpu backend evaluates sequences it made (a KvCache), not a "
                    + sequence.getClass().getSimpleName());
        }
        if (count <= 0) {
            throw new IllegalArgumentException("nothing to evaluate: " + count + " tokens");
        }
        int start = cache.length();
        if (start + count > cache.capacity()) {
            throw new ContextOverflowException("the sequence would reach " + (start + count)
                    + " tokens but its context holds " + cache.capacity());
        }
        for (int i = from; i < from + count; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabularySize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary of "
                        + config.vocabularySize());
            }
        }
        return cache;
    }

    /** Runs the tokens through every layer into {@code a}, appending their keys and values to the cache. */
    private Activations evaluate(KvCache cache, int[] tokens, int from, int count, Activations a) {
        int start = cache.length();
        RopeTable[] rope = ropesFor(cache);
        for (RopeTable table : rope) {
            if (table != null) {
                table.ensure(start + count);
            }
        }
        for (int b = 0; b < count; b++) {
            weights.tokenEmbedding().readRow(tokens[from + b], a.x, b * config.dim());
        }
        VectorMath.scale(a.x, count * config.dim(), traits.embeddingScale());
        if (weights.perLayerInputs() != null) {
            perLayerInputs(tokens, from, count, a);
        }
        for (int i = from; i < from + count; i++) {
            cache.advance(tokens[i]);
        }
        for (int layer = 0; layer < config.layers(); layer++) {
            attentionBlock(layer, cache, rope[layer], start, count, a);
            feedForwardBlock(layer, count, a);
            if (weights.perLayerInputs() != null) {
                perLayerInputBlock(layer, count, a);
            }
            float[] outputScale = weights.layers().get(layer).outputScale();
            if (outputScale != null) {
                VectorMath.scale(a.x, count * config.dim(), outputScale[0]);
            }
        }
        cache.compact();
        return a;
    }

    /**
     * Gemma 4's per-layer inputs of the batch into {@code a.perLayer} (token by token, layer after
     * layer): the embedded input projected, scaled by 1/sqrt(dim) and normalized per layer, plus the
     * token's per-layer embedding scaled by sqrt(width), the sum scaled by 1/sqrt(2), in llama.cpp's order.
     */
    private void perLayerInputs(int[] tokens, int from, int count, Activations a) {
        ModelWeights.PerLayerInputs p = weights.perLayerInputs();
        int width = traits.perLayerInput();
        int row = config.layers() * width;
        p.projection().multiply(a.x, count, a.perLayer, pool);
        VectorMath.scale(a.perLayer, count * row, 1f / (float) Math.sqrt(config.dim()));
        for (int slice = 0; slice < count * config.layers(); slice++) {
            VectorMath.rmsNorm(a.perLayer, slice * width, p.projectionNorm(), config.rmsEpsilon(), a.perLayer, slice * width, width);
        }
        float embeddingScale = (float) Math.sqrt(width);
        float inputScale = 1f / (float) Math.sqrt(2f);
        for (int b = 0; b < count; b++) {
            p.embedding().readRow(tokens[from + b], a.perLayerGate, 0);
            for (int i = 0; i < row; i++) {
                a.perLayer[b * row + i] = (a.perLayer[b * row + i] + a.perLayerGate[i] * embeddingScale) * inputScale;
            }
        }
    }

    /**
     * x += norm(proj(gelu(gate(x)) * input)): the layer's slice of the per-layer inputs, gated by
     * the layer's output, joins the residual stream (Gemma 4).
     */
    private void perLayerInputBlock(int layer, int count, Activations a) {
        LayerWeights w = weights.layers().get(layer);
        int width = traits.perLayerInput();
        int row = config.layers() * width;
        int dim = config.dim();
        w.perLayerGate().multiply(a.x, count, a.perLayerGate, pool);
        VectorMath.gelu(a.perLayerGate, 0, count * width);
        for (int b = 0; b < count; b++) {
            for (int i = 0; i < width; i++) {
                a.perLayerGate[b * width + i] *= a.perLayer[b * row + layer * width + i];
            }
        }
        w.perLayerProjection().multiply(a.perLayerGate, count, a.out, pool);
        for (int b = 0; b < count; b++) {
            VectorMath.rmsNorm(a.out, b * dim, w.perLayerPostNorm(), config.rmsEpsilon(), a.out, b * dim, dim);
        }
        VectorMath.add(a.out, a.x, count * dim);
    }

    /**
     * A model whose layers attend to a later layer's cache (LCKV) evaluates a batch token by token:
     * a token's queries in the lower layers may only see the tokens before it, whose upper-layer
     * keys and values exist once those tokens have passed through every layer. (Its own upper-layer
     * entry does not exist yet when its lower layers attend, which is LCKV's masked diagonal.)
     */
    private float[] forwardOneByOne(KvCache cache, int[] tokens, int from, int count, Logits which) {
        int vocabulary = config.vocabularySize();
        float[] all = which == Logits.ALL ? new float[count * vocabulary] : null;
        float[] last = null;
        for (int i = 0; i < count; i++) {
            last = forward(cache, tokens, from + i, 1, Logits.LAST);
            if (all != null) {
                System.arraycopy(last, 0, all, i * vocabulary, vocabulary);
            }
        }
        return all != null ? all : last;
    }

    private void attentionBlock(int layer, KvCache cache, RopeTable rope, int start, int count, Activations a) {
        LayerWeights w = weights.layers().get(layer);
        int dim = config.dim();
        for (int b = 0; b < count; b++) {
            VectorMath.rmsNorm(a.x, b * dim, w.attentionNorm(), config.rmsEpsilon(), a.xn, b * dim, dim);
        }
        boolean owns = cache.ownsLayer(layer);
        w.query().multiply(a.xn, count, a.q, pool);
        if (owns) {
            w.key().multiply(a.xn, count, a.k, pool);
            w.value().multiply(a.xn, count, a.v, pool);
        }
        LayerAttention la = config.attention(layer);
        int hd = la.headDim();
        int vd = la.valueDim();
        int qWidth = config.heads() * hd;
        int kWidth = config.kvHeads() * hd;
        int vWidth = config.kvHeads() * vd;
        boolean tiled = usesTiledAttention(count, hd);
        boolean rotated = cache.rotatesKeys();
        QueryTemperature temperature = traits.queryTemperature();
        for (int b = 0; b < count; b++) {
            int pos = start + b;
            addBias(a.q, b * qWidth, w.queryBias());
            float queryTemperature = temperature == null ? 1f : temperature.factor(pos);
            for (int h = 0; h < config.heads(); h++) {
                int off = b * qWidth + h * hd;
                if (w.queryNorm() != null) {
                    VectorMath.rmsNorm(a.q, off, w.queryNorm(), config.rmsEpsilon(), a.q, off, hd);
                }
                if (rope != null) {
                    rope.rotate(a.q, off, pos, config.ropeStyle());
                }
                if (temperature != null) {
                    VectorMath.scale(a.q, off, hd, queryTemperature);
                }
                VectorMath.scale(a.q, off, hd, traits.queryScale());
                if (rotated) {
                    Hadamard.rotate(a.q, off, hd);
                }
                if (!tiled) {
                    Float16s.round(a.q, off, hd);
                }
            }
            if (!owns) {
                continue;
            }
            addBias(a.k, b * kWidth, w.keyBias());
            addBias(a.v, b * vWidth, w.valueBias());
            for (int g = 0; g < config.kvHeads(); g++) {
                int off = b * kWidth + g * hd;
                if (w.keyNorm() != null) {
                    VectorMath.rmsNorm(a.k, off, w.keyNorm(), config.rmsEpsilon(), a.k, off, hd);
                }
                if (rope != null) {
                    rope.rotate(a.k, off, pos, config.ropeStyle());
                }
                if (rotated) {
                    Hadamard.rotate(a.k, off, hd);
                }
                if (traits.valueNorm()) {
                    VectorMath.rmsNorm(a.v, b * vWidth + g * vd, null, config.rmsEpsilon(), a.v, b * vWidth + g * vd, vd);
                }
                cache.head(layer, g).append(pos, a.k, off, a.v, b * vWidth + g * vd);
            }
        }
        int blocks = (count + QUERY_BLOCK - 1) / QUERY_BLOCK;
        int groupSize = config.groupSize();
        boolean weighted = anyWeighted(cache, layer);
        PromptAttention.AttentionRows[] observers = owns && start == 0 ? cache.promptObservers(layer) : null;
        boolean observed = observers != null;
        if (blocks == 1 && groupSize > 1 && ((count == 1 && !observed) || !weighted)) {
            // One block of queries (a decode step): a task per query head, so that two threads share
            // e.g. SmolLM2's three key/value heads evenly; a range of tasks reads each head's keys
            // and values once. Each query head is computed as before, so the results are unchanged.
            int stride = weighted ? probabilityStride(cache, layer, start, a) : 0;
            pool.parallelFor(config.kvHeads() * groupSize, (fromTask, toTask) -> {
                AttentionScratch s = scratch.get();
                for (int t = fromTask; t < toTask; ) {
                    int group = t / groupSize;
                    int end = Math.min(toTask, (group + 1) * groupSize);
                    HeadCache head = cache.head(layer, group);
                    if (attendsWeighted(head, layer)) {
                        attendWeightedStep(head, layer, group, start, a, s, t - group * groupSize, end - group * groupSize,
                                stride);
                    } else {
                        attend(head, layer, group, 0, start, count, a, s, t - group * groupSize, end - group * groupSize);
                    }
                    t = end;
                }
            });
            if (weighted) {
                addStepAttention(cache, layer, start, a, stride);
            }
        } else {
            pool.parallelFor(config.kvHeads() * blocks, (fromTask, toTask) -> {
                AttentionScratch s = scratch.get();
                for (int t = fromTask; t < toTask; t++) {
                    HeadCache head = cache.head(layer, t / blocks);
                    if (attendsWeighted(head, layer)) {
                        attendWeighted(head, layer, t / blocks, t % blocks, start, count, a, s,
                                observers == null ? null : observers[t / blocks]);
                    } else {
                        attend(head, layer, t / blocks, t % blocks, start, count, a, s, 0, groupSize);
                    }
                }
            });
        }
        if (owns && start == 0) {
            cache.afterPrompt(layer, new Prompt(layer, count, a, observers));
        }
        w.attentionOutput().multiply(a.attention, count, a.out, pool);
        joinResidual(w.postAttentionNorm(), count, a);
    }

    /**
     * x += out, with out first normalized by {@code postNorm} where the family has one (Gemma) and
     * scaled by the residual multiplier (Granite).
     */
    private void joinResidual(float[] postNorm, int count, Activations a) {
        int dim = config.dim();
        if (postNorm != null) {
            for (int b = 0; b < count; b++) {
                VectorMath.rmsNorm(a.out, b * dim, postNorm, config.rmsEpsilon(), a.out, b * dim, dim);
            }
        }
        VectorMath.scale(a.out, count * dim, traits.residualScale());
        VectorMath.add(a.out, a.x, count * dim);
    }

    /**
     * Sizes {@code a.headProbabilities} for one decode step's probabilities of every query head of
     * the layer, and returns the room each query head has there (the most entries a head holds).
     */
    private int probabilityStride(KvCache cache, int layer, int start, Activations a) {
        int stride = 0;
        for (int g = 0; g < config.kvHeads(); g++) {
            stride = Math.max(stride, cache.head(layer, g).countUpTo(start));
        }
        if (a.headProbabilities.length < config.heads() * stride) {
            a.headProbabilities = new float[config.heads() * stride * 2];
        }
        return stride;
    }

    /**
     * One decode step's query heads [firstHead, endHead) of one key/value group over a compressed
     * head, as {@link #attendWeighted} computes them but for its low-precision entries, which are
     * scored and summed from their codes ({@link LowPrecisionAttention}) instead of decoded; each
     * query head's probabilities go to its room in {@code a.headProbabilities} for
     * {@link #addStepAttention}.
     */
    private void attendWeightedStep(HeadCache head, int layer, int group, int start, Activations a, AttentionScratch s,
                                    int firstHead, int endHead, int stride) {
        LayerAttention window = config.attention(layer);
        int hd = window.headDim();
        int vd = window.valueDim();
        int entries = head.countUpTo(start);
        int low = head.lowPrecisionEntries();
        s.ensure(entries, hd, vd);
        float[] biases = readBiases(head, entries, window.sliding(), s);
        if (window.sliding()) {
            biases = s.windowBiases(biases, entries, window.firstVisible(start));
        }
        float scale = traits.attentionScale();
        float softCap = traits.attentionSoftCap();
        float scoreScale = softCap > 0 ? scale / softCap : scale;
        int first = group * config.groupSize() + firstHead;
        int heads = endHead - firstHead;
        float[] p = a.headProbabilities;
        s.lowPrecision.scores(head, a.q, first * hd, heads, scoreScale, p, first * stride, stride);
        // The fp16 entries a tile at a time: a tile's keys and values, decoded once, serve every
        // query head of the range while they are in the first-level cache.
        for (int from = low; from < entries; from += AttentionKernels.KV_TILE) {
            int rows = Math.min(AttentionKernels.KV_TILE, entries - from);
            head.readKeys(from, from + rows, s.keys);
            for (int h = first; h < first + heads; h++) {
                AttentionKernels.scoreRows(a.q, h * hd, s.keys, rows, hd, scale, softCap, p, h * stride + from);
            }
        }
        Arrays.fill(a.attention, first * vd, (first + heads) * vd, 0f);
        if (entries == 0) {
            return;
        }
        for (int h = first; h < first + heads; h++) {
            AttentionKernels.softmax(p, h * stride, entries, biases, softCap);
        }
        for (int from = low; from < entries; from += AttentionKernels.KV_TILE) {
            int rows = Math.min(AttentionKernels.KV_TILE, entries - from);
            head.readValues(from, from + rows, s.values);
            for (int h = first; h < first + heads; h++) {
                AttentionKernels.addWeightedValues(p, h * stride + from, rows, s.values, 0, a.attention, h * vd, vd);
            }
        }
        s.lowPrecision.addValues(head, p, first * stride, stride, heads, a.attention, first * vd);
    }

    /**
     * Reads a compressed head's first {@code entries} keys and values into {@code s}, with their
     * positions where a sliding window has to mask some; returns their logit biases (null where the
     * head has none).
     */
    private float[] readCompressed(HeadCache head, int entries, boolean withPositions, AttentionScratch s) {
        s.ensure(entries, head.keyDim(), head.valueDim());
        head.readKeys(entries, s.keys);
        head.readValues(entries, s.values);
        return readBiases(head, entries, withPositions, s);
    }

    /** The logit biases of a compressed head's first {@code entries} (null where it has none), and their positions where a window masks some. */
    private static float[] readBiases(HeadCache head, int entries, boolean withPositions, AttentionScratch s) {
        if (withPositions) {
            head.readPositions(entries, s.positions);
        }
        if (!head.hasBiases()) {
            return null;
        }
        head.readBiases(entries, s.biases);
        return s.biases;
    }

    /**
     * Adds what each compressed head's entries received in a decode step to its statistics: the
     * probabilities of its query heads summed in their order, as {@link #attendWeighted} sums them.
     */
    private void addStepAttention(KvCache cache, int layer, int start, Activations a, int stride) {
        float[] p = a.headProbabilities;
        int groupSize = config.groupSize();
        for (int g = 0; g < config.kvHeads(); g++) {
            HeadCache head = cache.head(layer, g);
            if (!attendsWeighted(head, layer)) {
                continue;
            }
            int entries = head.countUpTo(start);
            int first = g * groupSize * stride;
            for (int h = 1; h < groupSize; h++) {
                int from = first + h * stride;
                for (int e = 0; e < entries; e++) {
                    p[first + e] += p[from + e];
                }
            }
            head.addAttention(p, first, entries);
        }
    }

    /** Whether some key/value head of the layer attends through {@link #attendWeighted} (whose statistics are per head). */
    private boolean anyWeighted(KvCache cache, int layer) {
        for (int g = 0; g < config.kvHeads(); g++) {
            if (attendsWeighted(cache.head(layer, g), layer)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a head attends through {@link #attendWeighted}: where the head needs it, and where a
     * sliding window cannot cut a prefix of its entries because compressed classes come first.
     */
    private boolean attendsWeighted(HeadCache head, int layer) {
        return head.attendsWeighted() || (config.attention(layer).sliding() && !head.inPositionOrder());
    }

    /**
     * Attention of the queries of one block and query heads [firstHead, endHead) of one key/value
     * group (numbered within the group) over what that head holds.
     */
    private void attend(HeadCache head, int layer, int group, int block, int start, int count, Activations a,
                        AttentionScratch s, int firstHead, int endHead) {
        LayerAttention window = config.attention(layer);
        int hd = window.headDim();
        int vd = window.valueDim();
        int firstQuery = block * QUERY_BLOCK;
        int lastQuery = Math.min(count, firstQuery + QUERY_BLOCK) - 1;
        int entries = head.countUpTo(start + lastQuery);
        s.ensure(entries, hd, vd);
        head.readKeys(entries, s.keys);
        head.readValues(entries, s.values);
        float scale = traits.attentionScale();
        float softCap = traits.attentionSoftCap();
        boolean tiled = usesTiledAttention(count, hd);
        // A window's tiles start at its first entry, so the last may reach a tile past the entries.
        int stride = (entries + AttentionKernels.KV_TILE - 1) / AttentionKernels.KV_TILE * AttentionKernels.KV_TILE
                + (window.sliding() ? AttentionKernels.KV_TILE : 0);
        if (tiled) {
            s.transposeKeys(entries, hd, stride);
        }
        int qWidth = config.heads() * hd;
        int outWidth = config.heads() * vd;
        for (int b = firstQuery; b <= lastQuery; b++) {
            int visible = head.countUpTo(start + b);
            int first = window.sliding() ? head.countBefore(window.firstVisible(start + b)) : 0;
            for (int h = group * config.groupSize() + firstHead; h < group * config.groupSize() + endHead; h++) {
                int qOff = b * qWidth + h * hd;
                int outOff = b * outWidth + h * vd;
                if (tiled) {
                    AttentionKernels.singlePrecision(a.q, qOff, s.keysByDimension, stride, s.values, first, visible, hd, vd,
                            scale, softCap, a.attention, outOff, s.scores);
                } else {
                    AttentionKernels.halfPrecision(a.q, qOff, s.keys, s.values, first, visible, hd, vd, scale, softCap,
                            a.attention, outOff, s.accumulator, s.scores, s.factors);
                }
            }
        }
    }

    /**
     * Attention of the queries of one block and one key/value group over a compressed head: every
     * entry decoded to float (whatever its precision), merged entries with their logit bias, a
     * plain softmax. The attention each entry receives is summed over the block's queries and
     * added to the head's statistics; with an {@code observer} (a policy profiling the prompt),
     * each query's probabilities also go to it. A sliding window masks the entries before it with
     * a logit bias of minus infinity.
     */
    private void attendWeighted(HeadCache head, int layer, int group, int block, int start, int count, Activations a,
                                AttentionScratch s, PromptAttention.AttentionRows observer) {
        LayerAttention window = config.attention(layer);
        int hd = window.headDim();
        int vd = window.valueDim();
        int firstQuery = block * QUERY_BLOCK;
        int lastQuery = Math.min(count, firstQuery + QUERY_BLOCK) - 1;
        int entries = head.countUpTo(start + lastQuery);
        float[] biases = readCompressed(head, entries, window.sliding(), s);
        int stride = (entries + AttentionKernels.KV_TILE - 1) / AttentionKernels.KV_TILE * AttentionKernels.KV_TILE;
        s.transposeKeys(entries, hd, stride);
        Arrays.fill(s.received, 0, entries, 0f);
        float scale = traits.attentionScale();
        int qWidth = config.heads() * hd;
        int outWidth = config.heads() * vd;
        for (int b = firstQuery; b <= lastQuery; b++) {
            int visible = head.countUpTo(start + b);
            float[] queryBiases = window.sliding() ? s.windowBiases(biases, visible, window.firstVisible(start + b)) : biases;
            for (int h = group * config.groupSize(); h < (group + 1) * config.groupSize(); h++) {
                AttentionKernels.weightedTiled(a.q, b * qWidth + h * hd, s.keysByDimension, stride, s.values, queryBiases,
                        visible, hd, vd, scale, traits.attentionSoftCap(), a.attention,
                        b * outWidth + h * vd, s.scores, s.tile);
                for (int e = 0; e < visible; e++) {
                    s.received[e] += s.scores[e];
                }
                if (observer != null) {
                    observer.add(s.scores, visible, start + b);
                }
            }
        }
        head.addAttention(s.received, entries);
    }

    /**
     * The prompt of one layer as a policy may look at it (see {@link KvCache#afterPrompt}): the
     * batch's keys and queries, and the observers its attention pass fed.
     */
    private final class Prompt implements PromptAttention {
        private final int layer;
        private final int count;
        private final Activations a;
        private final AttentionRows[] observers;

        Prompt(int layer, int count, Activations a, AttentionRows[] observers) {
            this.layer = layer;
            this.count = count;
            this.a = a;
            this.observers = observers;
        }

        @Override
        public int count() {
            return count;
        }

        @Override
        public float[] keys(int kvHead) {
            int hd = config.attention(layer).headDim();
            float[] keys = new float[count * hd];
            for (int b = 0; b < count; b++) {
                System.arraycopy(a.k, b * config.kvHeads() * hd + kvHead * hd, keys, b * hd, hd);
            }
            return keys;
        }

        @Override
        public float[] queries(int kvHead) {
            int hd = config.attention(layer).headDim();
            int group = config.groupSize();
            float[] queries = new float[count * group * hd];
            for (int b = 0; b < count; b++) {
                System.arraycopy(a.q, b * config.heads() * hd + kvHead * group * hd, queries, b * group * hd, group * hd);
            }
            return queries;
        }

        @Override
        public AttentionRows observed(int kvHead) {
            return observers == null ? null : observers[kvHead];
        }
    }

    /**
     * llama.cpp switches to its tiled, float-accumulating flash attention for batches of at least
     * {@link #TILED_MIN_QUERIES} queries when the head width fills whole 16-float registers; below
     * that (decode steps, short prompts) it runs the fp16-accumulating one.
     */
    private static boolean usesTiledAttention(int queries, int headDim) {
        return queries >= TILED_MIN_QUERIES && headDim % 16 == 0;
    }

    private void feedForwardBlock(int layer, int count, Activations a) {
        LayerWeights w = weights.layers().get(layer);
        int dim = config.dim();
        for (int b = 0; b < count; b++) {
            VectorMath.rmsNorm(a.x, b * dim, w.ffnNorm(), config.rmsEpsilon(), a.xn, b * dim, dim);
        }
        int ffn = w.ffnGate().rows();
        w.ffnGate().multiply(a.xn, count, a.gate, pool);
        w.ffnUp().multiply(a.xn, count, a.up, pool);
        switch (traits.activation()) {
            case SILU -> VectorMath.swiglu(a.gate, a.up, count, ffn);
            case GELU -> VectorMath.geglu(a.gate, a.up, count * ffn);
        }
        w.ffnDown().multiply(a.gate, count, a.out, pool);
        joinResidual(w.postFfnNorm(), count, a);
    }

    /** The logits of the last {@code rows} of the batch's {@code count} tokens, into {@code logits}. */
    private void output(Activations a, int count, int rows, float[] logits) {
        int dim = config.dim();
        int first = count - rows;
        // The final norm goes to xn, free once the last layer has read it.
        for (int r = 0; r < rows; r++) {
            VectorMath.rmsNorm(a.x, (first + r) * dim, weights.outputNorm(), config.rmsEpsilon(), a.xn, r * dim, dim);
        }
        weights.output().multiply(a.xn, rows, logits, pool);
        int length = rows * config.vocabularySize();
        VectorMath.scale(logits, length, traits.logitScale());
        float cap = traits.finalSoftCap();
        if (cap > 0) {
            // as llama.cpp's graph: a scale by 1/cap, tanh, a scale by cap
            float inverse = 1f / cap;
            for (int i = 0; i < length; i++) {
                logits[i] = (float) Math.tanh(logits[i] * inverse) * cap;
            }
        }
    }

    private static void addBias(float[] x, int off, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < bias.length; i++) {
                x[off + i] += bias[i];
            }
        }
    }

    /** The activations and logits of one one-token step. */
    private final class Step {
        final Activations activations = new Activations(config, 1);
        final float[] logits = new float[config.vocabularySize()];
    }

    /** The per-call activations of a batch of tokens, row after row. */
    private static final class Activations {
        final float[] x;
        final float[] xn;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] attention;
        final float[] out;
        final float[] gate;
        final float[] up;
        /** Gemma 4's per-layer inputs of the batch (token by token, layer after layer), and the gated one of a layer. */
        final float[] perLayer;
        final float[] perLayerGate;
        /** A decode step's attention probabilities over compressed heads, per query head (grown as entries grow). */
        float[] headProbabilities = new float[0];

        Activations(ModelConfig c, int count) {
            x = new float[count * c.dim()];
            xn = new float[count * c.dim()];
            q = new float[count * c.heads() * c.headDim()];
            k = new float[count * c.kvHeads() * c.headDim()];
            v = new float[count * c.kvHeads() * c.valueDim()];
            attention = new float[count * c.heads() * c.valueDim()];
            out = new float[count * c.dim()];
            gate = new float[count * c.ffnDim()];
            up = new float[count * c.ffnDim()];
            int perLayerRow = c.layers() * c.traits().perLayerInput();
            perLayer = new float[count * perLayerRow];
            // also holds one token's per-layer embedding row while the inputs are computed
            perLayerGate = new float[Math.max(count * c.traits().perLayerInput(), perLayerRow)];
        }
    }

    /** Per-thread buffers for one attention task: decoded keys and values, and scores. */
    private static final class AttentionScratch {
        float[] keys = new float[0];
        float[] values = new float[0];
        float[] scores = new float[0];
        /** The exponential of each entry in a decode step. */
        float[] factors = new float[0];
        float[] accumulator = new float[0];
        /** Logit bias per entry, and attention received per entry, for compressed heads. */
        float[] biases = new float[0];
        float[] received = new float[0];
        /** Positions of the entries in attention order, and the logit biases that add a window's mask. */
        int[] positions = new int[0];
        float[] masked = new float[0];
        /** Attention over a compressed head's low-precision entries, from their codes. */
        final LowPrecisionAttention lowPrecision = new LowPrecisionAttention();
        /** One tile of scores of the batch kernels. */
        final float[] tile = new float[AttentionKernels.KV_TILE];
        /** The keys dimension by dimension ({@code keys[e][d]} at {@code d * stride + e}), for the tiled kernel. */
        float[] keysByDimension = new float[0];

        void transposeKeys(int entries, int keyDim, int stride) {
            if (keysByDimension.length < keyDim * stride) {
                keysByDimension = new float[keyDim * stride * 2];
            }
            for (int e = 0; e < entries; e++) {
                for (int d = 0; d < keyDim; d++) {
                    keysByDimension[d * stride + e] = keys[e * keyDim + d];
                }
            }
        }

        /** {@code biases} (null: none) with minus infinity on the first {@code entries} entries before {@code firstVisible}. */
        float[] windowBiases(float[] biases, int entries, int firstVisible) {
            for (int e = 0; e < entries; e++) {
                masked[e] = positions[e] < firstVisible ? Float.NEGATIVE_INFINITY : biases == null ? 0f : biases[e];
            }
            return masked;
        }

        void ensure(int entries, int keyDim, int valueDim) {
            int needed = Math.max(entries, AttentionKernels.KV_TILE);
            // layers of different head widths (Gemma 4) share the buffers
            if (scores.length < needed || keys.length < scores.length * keyDim || values.length < scores.length * valueDim) {
                int n = scores.length < needed ? Math.max(needed, scores.length * 2) : scores.length;
                keys = new float[n * keyDim];
                values = new float[n * valueDim];
                scores = new float[n];
                factors = new float[n];
                biases = new float[n];
                received = new float[n];
                positions = new int[n];
                masked = new float[n];
            }
            if (accumulator.length < valueDim) {
                accumulator = new float[valueDim];
            }
        }
    }
}
