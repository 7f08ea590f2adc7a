package io.kvcache.cuda;

import io.kvcache.core.model.LayerWeights;
import io.kvcache.core.model.Model;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.ModelWeights;
import io.kvcache.core.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Every byte the CUDA backend puts on the device for a model, decided on the host before anything
 * is allocated, in four allocations:
 * <ul>
 *   <li>weights: every matrix as stored in the model file (quantized blocks unchanged), norm gains,
 *       biases and the RoPE frequencies as F32, each at a {@link ArenaLayout#ALIGNMENT} boundary;
 *       a tied output matrix is the embedding itself;</li>
 *   <li>keys and values: the {@code full} fp16 cache, per sequence, per layer that stores K/V
 *       (layers that attend to another layer's cache store none), per KV head: {@code contextLength}
 *       rows of headDim (valueDim) halves, the entry of a token at its position;</li>
 *   <li>activations: see {@link ActivationLayout}.</li>
 * </ul>
 * {@link #deviceBytes()} rounds each allocation up to {@link #ALLOCATION_GRANULARITY}, the unit in
 * which the driver maps device memory, so it is what cuMemGetInfo's free memory drops by.
 */
public final class DeviceMemoryPlan {
    /** The granularity in which cuMemAlloc maps device memory for allocations of this size (2 MiB pages). */
    public static final long ALLOCATION_GRANULARITY = 2L << 20;
    private static final double GIB = 1L << 30;

    private final ModelConfig config;
    private final int contextLength;
    private final int sequences;
    private final WeightSlot tokenEmbedding;
    private final WeightSlot output;
    private final WeightSlot outputNorm;
    private final WeightSlot ropeFrequencies;
    private final List<LayerSlots> layers;
    private final long weightBytes;
    private final int[] storedIndex;
    private final int storedLayers;
    private final ActivationLayout activations;

    private DeviceMemoryPlan(Model model, int contextLength, int sequences, int chunk) {
        this.config = model.config();
        this.contextLength = contextLength;
        this.sequences = sequences;
        ModelWeights w = model.weights();
        ArenaLayout arena = new ArenaLayout();
        this.tokenEmbedding = matrix(w.tokenEmbedding(), arena);
        this.output = w.output() == w.tokenEmbedding() ? tokenEmbedding : matrix(w.output(), arena);
        this.outputNorm = vector("output_norm", w.outputNorm(), arena);
        this.ropeFrequencies = vector("rope_frequencies", RopeFrequencies.of(config, w.ropeFactors()), arena);
        List<LayerSlots> slots = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            slots.add(layer(i, w.layers().get(i), arena));
        }
        this.layers = List.copyOf(slots);
        this.weightBytes = arena.size();
        this.storedIndex = new int[config.layers()];
        int stored = 0;
        for (int layer = 0; layer < config.layers(); layer++) {
            storedIndex[layer] = config.kvLayer(layer) == layer ? stored++ : -1;
        }
        this.storedLayers = stored;
        this.activations = ActivationLayout.of(config, chunk, sequences, contextLength);
    }

    /**
     * @param contextLength positions each sequence may reach
     * @param sequences     sequences held on the device at once
     * @param chunk         most tokens one forward call evaluates (prompts are split into chunks)
     */
    public static DeviceMemoryPlan of(Model model, int contextLength, int sequences, int chunk) {
        if (contextLength < 1 || contextLength > model.config().contextLength()) {
            throw new IllegalArgumentException("context length " + contextLength + " must be from 1 to the model's "
                    + model.config().contextLength());
        }
        if (sequences < 1 || chunk < 1) {
            throw new IllegalArgumentException("sequences and chunk must be >= 1, got " + sequences + " and " + chunk);
        }
        if (model.config().headDim() > 256 || model.config().valueDim() > 256) {
            throw new IllegalArgumentException("the CUDA attention kernels take heads of at most 256 values; "
                    + model.config().name() + " has " + model.config().headDim() + " / " + model.config().valueDim());
        }
        return new DeviceMemoryPlan(model, contextLength, sequences, chunk);
    }

    private static WeightSlot matrix(WeightMatrix m, ArenaLayout arena) {
        WeightKernels.of(m.name(), m.type());
        return WeightSlot.matrix(m, arena.place(m.byteSize()));
    }

    private static WeightSlot adjacentMatrix(WeightMatrix m, ArenaLayout arena) {
        WeightKernels.of(m.name(), m.type());
        return WeightSlot.matrix(m, arena.placeAdjacent(m.byteSize()));
    }

    private static WeightSlot vector(String name, float[] values, ArenaLayout arena) {
        return values == null ? null : WeightSlot.vector(name, values, arena.place((long) values.length * Float.BYTES));
    }

    private LayerSlots layer(int i, LayerWeights w, ArenaLayout arena) {
        String prefix = "blk." + i + ".";
        WeightSlot attentionNorm = vector(prefix + "attn_norm", w.attentionNorm(), arena);
        WeightSlot query = matrix(w.query(), arena);
        boolean adjacent = w.key() != null && w.key().type() == w.query().type() && w.value().type() == w.query().type();
        WeightSlot key = w.key() == null ? null : adjacent ? adjacentMatrix(w.key(), arena) : matrix(w.key(), arena);
        WeightSlot value = w.value() == null ? null : adjacent ? adjacentMatrix(w.value(), arena) : matrix(w.value(), arena);
        WeightSlot bias = vector(prefix + "qkv_bias", qkvBias(w), arena);
        WeightSlot queryNorm = vector(prefix + "attn_q_norm", w.queryNorm(), arena);
        WeightSlot keyNorm = vector(prefix + "attn_k_norm", w.keyNorm(), arena);
        WeightSlot attentionOutput = matrix(w.attentionOutput(), arena);
        WeightSlot ffnNorm = vector(prefix + "ffn_norm", w.ffnNorm(), arena);
        WeightSlot gate = matrix(w.ffnGate(), arena);
        WeightSlot up = w.ffnUp().type() == w.ffnGate().type() ? adjacentMatrix(w.ffnUp(), arena) : matrix(w.ffnUp(), arena);
        WeightSlot down = matrix(w.ffnDown(), arena);
        return new LayerSlots(attentionNorm, query, key, value, bias, queryNorm, keyNorm, attentionOutput, ffnNorm,
                gate, up, down);
    }

    /** The q, k and v biases side by side as the q|k|v activation row holds them (zeros where one is absent), or null. */
    private float[] qkvBias(LayerWeights w) {
        if (w.queryBias() == null && w.keyBias() == null && w.valueBias() == null) {
            return null;
        }
        int q = config.heads() * config.headDim();
        int k = config.kvHeads() * config.headDim();
        float[] bias = new float[ActivationLayout.qkvWidth(config)];
        if (w.queryBias() != null) {
            System.arraycopy(w.queryBias(), 0, bias, 0, q);
        }
        if (w.keyBias() != null) {
            System.arraycopy(w.keyBias(), 0, bias, q, k);
        }
        if (w.valueBias() != null) {
            System.arraycopy(w.valueBias(), 0, bias, q + k, config.kvHeads() * config.valueDim());
        }
        return bias;
    }

    public ModelConfig config() {
        return config;
    }

    public int contextLength() {
        return contextLength;
    }

    public int sequences() {
        return sequences;
    }

    public WeightSlot tokenEmbedding() {
        return tokenEmbedding;
    }

    /** The output matrix; the same slot as {@link #tokenEmbedding()} when the model ties them. */
    public WeightSlot output() {
        return output;
    }

    public WeightSlot outputNorm() {
        return outputNorm;
    }

    public WeightSlot ropeFrequencies() {
        return ropeFrequencies;
    }

    public List<LayerSlots> layers() {
        return layers;
    }

    /** Every weight slot, each once. */
    public List<WeightSlot> weights() {
        List<WeightSlot> all = new ArrayList<>(List.of(tokenEmbedding));
        if (output != tokenEmbedding) {
            all.add(output);
        }
        all.add(outputNorm);
        all.add(ropeFrequencies);
        for (LayerSlots l : layers) {
            for (WeightSlot s : Arrays.asList(l.attentionNorm(), l.query(), l.key(), l.value(), l.qkvBias(), l.queryNorm(),
                    l.keyNorm(), l.attentionOutput(), l.ffnNorm(), l.gate(), l.up(), l.down())) {
                if (s != null) {
                    all.add(s);
                }
            }
        }
        return all;
    }

    /** Size of the weight allocation: every slot plus the padding that aligns them. */
    public long weightBytes() {
        return weightBytes;
    }

    /** Layers that store keys and values (every layer but those attending to another layer's cache). */
    public int storedLayers() {
        return storedLayers;
    }

    /** Bytes one KV head of one stored layer holds for one sequence: its whole context of fp16 keys and values. */
    public long kvHeadBytes() {
        return (long) contextLength * (config.headDim() + config.valueDim()) * 2;
    }

    /** Bytes the cache holds per token per KV head of a stored layer (the CPU's full cache adds its positions, one 8-byte run per head). */
    public long kvBytesPerTokenAndHead() {
        return (long) (config.headDim() + config.valueDim()) * 2;
    }

    public long keyBytes() {
        return (long) sequences * storedLayers * config.kvHeads() * contextLength * config.headDim() * 2;
    }

    public long valueBytes() {
        return (long) sequences * storedLayers * config.kvHeads() * contextLength * config.valueDim() * 2;
    }

    /** Byte offset of the keys of {@code layer}'s cache (its owner's, for a layer that shares) in the key allocation, for {@code sequence}. */
    public long keyOffset(int sequence, int layer) {
        return cacheIndex(sequence, layer) * config.kvHeads() * contextLength * config.headDim() * 2;
    }

    public long valueOffset(int sequence, int layer) {
        return cacheIndex(sequence, layer) * config.kvHeads() * contextLength * config.valueDim() * 2;
    }

    private long cacheIndex(int sequence, int layer) {
        if (sequence < 0 || sequence >= sequences) {
            throw new IndexOutOfBoundsException("sequence " + sequence + " of " + sequences);
        }
        return (long) sequence * storedLayers + storedIndex[config.kvLayer(layer)];
    }

    public ActivationLayout activations() {
        return activations;
    }

    /** The four allocations' sizes: weights, keys, values, activations. */
    public long[] allocations() {
        return new long[] {weightBytes, keyBytes(), valueBytes(), activations.bytes()};
    }

    /** What the device's free memory drops by once the four allocations are made. */
    public long deviceBytes() {
        long total = 0;
        for (long bytes : allocations()) {
            total += (bytes + ALLOCATION_GRANULARITY - 1) / ALLOCATION_GRANULARITY * ALLOCATION_GRANULARITY;
        }
        return total;
    }

    /** Why the plan does not fit in {@code freeBytes} of device memory, or empty when it does. */
    public Optional<String> shortfall(long freeBytes) {
        if (deviceBytes() <= freeBytes) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "%s needs %.2f GiB on the GPU (%s) but %.2f GiB are free; "
                        + "lower kvcache.model.context-length or kvcache.sessions.max-active, or use kvcache.backend=cpu",
                config.name(), deviceBytes() / GIB, describe(), freeBytes / GIB));
    }

    /** The allocations in words. */
    public String describe() {
        return String.format(Locale.ROOT, "weights %.3f GiB, KV cache %.3f GiB for %d x %d positions, activations %.3f GiB",
                weightBytes / GIB, (keyBytes() + valueBytes()) / GIB, sequences, contextLength, activations.bytes() / GIB);
    }
}
