package io.kvcache.cuda;

import io.kvcache.core.ContextOverflowException;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.RopeStyle;
import io.kvcache.core.sampling.Sampler;
import io.kvcache.core.sampling.SamplingParams;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * The forward pass on the GPU, in the order of the CPU's {@code io.kvcache.core.cpu.CpuForwardPass}:
 * per chunk of tokens, * the embedding lookup, then per layer RMSNorm, the q|k|v products (one launch when their types
 * match, biases added in it), q/k norm + RoPE + the fp16 cache store (one launch), attention, the
 * output product with the residual added in it, RMSNorm, the gate|up products, SwiGLU and the down
 * product with the residual; then the final norm and the output product. Decode takes about nine
 * launches per layer. Sampling runs on the device too ({@link #forwardAndSample}): only the token
 * id is copied back per step.
 *
 * <p>The device keeps the {@code full} fp16 cache of each sequence per layer and KV head (see
 * {@link DeviceMemoryPlan}); the host's {@link DeviceSequence} records the sequence's tokens only.
 * Calls are serialized: the kernels of one call run in order on the default stream.
 */
final class CudaTransformer implements ForwardPass {
    /** What a forward call leaves of the logits: none, the last row on the device, the last row copied back, every row copied back. */
    private enum Output { NONE, ON_DEVICE, LAST, ALL }

    private final ModelConfig config;
    private final DeviceMemoryPlan plan;
    private final CudaDevice device;
    private final DeviceAllocations memory;
    private final KernelLauncher kernels;
    private final DeviceSequences sequences;
    private final int qkvWidth;
    private final int tokenRow;

    CudaTransformer(DeviceMemoryPlan plan, CudaDevice device, DeviceAllocations memory) {
        this.config = plan.config();
        this.plan = plan;
        this.device = device;
        this.memory = memory;
        this.kernels = new KernelLauncher(device);
        this.sequences = new DeviceSequences(plan.sequences());
        this.qkvWidth = ActivationLayout.qkvWidth(config);
        this.tokenRow = ActivationLayout.tokenRow(plan.contextLength());
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public DeviceSequence newSequence(int capacity, KvCacheConfig cacheConfig, TokenClasses classes) {
        return new DeviceSequence(config, capacity, cacheConfig);
    }

    @Override
    public synchronized float[] forward(Sequence sequence, int[] tokens, int from, int count, ForwardPass.Logits logits) {
        DeviceSequence cache = deviceSequence(sequence);
        DeviceSequences.Slot slot = prepare(cache, tokens, from, count);
        Output output = logits == ForwardPass.Logits.ALL ? Output.ALL : Output.LAST;
        float[] result = evaluate(slot, tokens, from, count, cache.length(), output);
        advance(cache, tokens, from, count);
        return result;
    }

    @Override
    public synchronized int forwardAndSample(Sequence sequence, int[] tokens, int from, int count, Sampler sampler,
                                             int[] history, int historyLength) {
        DeviceSequence cache = deviceSequence(sequence);
        DeviceSequences.Slot slot = prepare(cache, tokens, from, count);
        evaluate(slot, tokens, from, count, cache.length(), Output.ON_DEVICE);
        advance(cache, tokens, from, count);
        return sample(slot, sampler, historyLength);
    }

    private static DeviceSequence deviceSequence(Sequence sequence) {
        if (!(sequence instanceof DeviceSequence device)) {
            throw new IllegalArgumentException("the cuda backend evaluates sequences it made, not a "
                    + sequence.getClass().getSimpleName());
        }
        return device;
    }

    private static void advance(DeviceSequence cache, int[] tokens, int from, int count) {
        for (int i = from; i < from + count; i++) {
            cache.tokens().advance(tokens[i]);
        }
    }

    /** Checks the call as the CPU forward pass does and brings the device up to the cache's length. */
    private DeviceSequences.Slot prepare(DeviceSequence cache, int[] tokens, int from, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("nothing to evaluate: " + count + " tokens");
        }
        if (cache.capacity() > plan.contextLength()) {
            throw new IllegalArgumentException("the cache holds " + cache.capacity() + " positions, the device "
                    + plan.contextLength());
        }
        if (cache.length() + count > cache.capacity()) {
            throw new ContextOverflowException("the sequence would reach " + (cache.length() + count)
                    + " tokens but its context holds " + cache.capacity());
        }
        for (int i = from; i < from + count; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabularySize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary of "
                        + config.vocabularySize());
            }
        }
        device.makeCurrent();
        DeviceSequences.Slot slot = sequences.slotFor(cache);
        if (slot.length < cache.length()) {
            int[] held = new int[cache.length()];
            for (int p = 0; p < held.length; p++) {
                held[p] = cache.token(p);
            }
            evaluate(slot, held, slot.length, held.length - slot.length, slot.length, Output.NONE);
        }
        return slot;
    }

    /** Evaluates tokens[from, from+count) at positions start.. of the slot's sequence, a chunk at a time. */
    private float[] evaluate(DeviceSequences.Slot slot, int[] tokens, int from, int count, int start, Output output) {
        int vocabulary = config.vocabularySize();
        float[] all = output == Output.ALL ? new float[count * vocabulary] : null;
        float[] last = null;
        // LCKV: a layer that attends to a later layer's cache sees each token's predecessors only once they passed every layer.
        int chunk = config.attendsToLaterLayers() ? 1 : plan.activations().chunk();
        for (int done = 0; done < count; done += chunk) {
            int n = Math.min(chunk, count - done);
            Output here = output == Output.ALL ? Output.ALL : done + n == count ? output : Output.NONE;
            runChunk(slot, tokens, from + done, n, start + done, here);
            if (here == Output.ALL) {
                float[] rows = new float[n * vocabulary];
                JCudaDriver.cuMemcpyDtoH(Pointer.to(rows), logitsBuffer(), (long) rows.length * Float.BYTES);
                System.arraycopy(rows, 0, all, done * vocabulary, rows.length);
            } else if (here == Output.LAST) {
                last = new float[vocabulary];
                JCudaDriver.cuMemcpyDtoH(Pointer.to(last), logitsBuffer(), (long) vocabulary * Float.BYTES);
            }
        }
        return all != null ? all : last;
    }

    private CUdeviceptr activation(long offset) {
        return memory.activations.withByteOffset(offset);
    }

    private CUdeviceptr logitsBuffer() {
        return activation(plan.activations().logits());
    }

    /** The token ids of the slot's sequence: one per position, then the token sampled after the last. */
    private CUdeviceptr tokenIds(DeviceSequences.Slot slot) {
        return activation(plan.activations().tokens() + (long) slot.index * tokenRow * Integer.BYTES);
    }

    private CUdeviceptr weight(WeightSlot slot) {
        return slot == null ? KernelLauncher.NULL : memory.weights.withByteOffset(slot.offset());
    }

    /** The q|k|v bias from float {@code at} on, or null when the layer has none. */
    private CUdeviceptr biasFrom(LayerSlots layer, int at) {
        return layer.qkvBias() == null ? KernelLauncher.NULL : weight(layer.qkvBias()).withByteOffset((long) at * Float.BYTES);
    }

    private void product(WeightSlot w, int rows, int cols, CUdeviceptr x, int batch, CUdeviceptr y, int ldy,
                         CUdeviceptr bias, boolean accumulate) {
        kernels.product(w.name(), w.type(), weight(w), rows, cols, x, batch, y, ldy, bias, accumulate);
    }

    private void runChunk(DeviceSequences.Slot slot, int[] tokens, int from, int n, int start, Output output) {
        ActivationLayout a = plan.activations();
        CUdeviceptr x = activation(a.x());
        CUdeviceptr xn = activation(a.xn());
        CUdeviceptr qkv = activation(a.qkv());
        CUdeviceptr attention = activation(a.attention());
        CUdeviceptr gateUp = activation(a.gateUp());
        CUdeviceptr hidden = activation(a.hidden());
        CUdeviceptr ids = tokenIds(slot).withByteOffset((long) start * Integer.BYTES);
        boolean sampledHere = n == 1 && slot.sampledAt == start && slot.sampledToken == tokens[from];
        if (!sampledHere) {
            int[] chunk = java.util.Arrays.copyOfRange(tokens, from, from + n);
            JCudaDriver.cuMemcpyHtoD(ids, Pointer.to(chunk), (long) n * Integer.BYTES);
        }
        int dim = config.dim();
        int heads = config.heads();
        int kvHeads = config.kvHeads();
        int headDim = config.headDim();
        int valueDim = config.valueDim();
        int ffn = config.ffnDim();
        float eps = config.rmsEpsilon();
        WeightSlot embedding = plan.tokenEmbedding();
        kernels.embed(embedding.name(), embedding.type(), weight(embedding), ids, x, dim, n);
        int qRows = heads * headDim;
        int kRows = kvHeads * headDim;
        int vRows = kvHeads * valueDim;
        for (int l = 0; l < config.layers(); l++) {
            LayerSlots layer = plan.layers().get(l);
            boolean owns = config.kvLayer(l) == l;
            kernels.rmsNorm(x, weight(layer.attentionNorm()), xn, n, dim, eps);
            if (owns && layer.fusedQkv()) {
                product(layer.query(), qRows + kRows + vRows, dim, xn, n, qkv, qkvWidth, biasFrom(layer, 0), false);
            } else {
                product(layer.query(), qRows, dim, xn, n, qkv, qkvWidth, biasFrom(layer, 0), false);
                if (owns) {
                    product(layer.key(), kRows, dim, xn, n, qkv.withByteOffset((long) qRows * Float.BYTES), qkvWidth,
                            biasFrom(layer, qRows), false);
                    product(layer.value(), vRows, dim, xn, n, qkv.withByteOffset((long) (qRows + kRows) * Float.BYTES),
                            qkvWidth, biasFrom(layer, qRows + kRows), false);
                }
            }
            CUdeviceptr keys = memory.keys.withByteOffset(plan.keyOffset(slot.index, l));
            CUdeviceptr values = memory.values.withByteOffset(plan.valueOffset(slot.index, l));
            kernels.qkNormRopeStore(qkv, qkvWidth, weight(layer.queryNorm()), weight(layer.keyNorm()),
                    weight(plan.ropeFrequencies()), keys, values, heads, kvHeads, headDim, valueDim, config.ropeDims(),
                    config.ropeStyle() == RopeStyle.HALVES, plan.contextLength(), start, n, eps, owns);
            kernels.attention(qkv, qkvWidth, keys, values, attention, heads, kvHeads, headDim, valueDim,
                    plan.contextLength(), start, n, config.kvLayer(l) <= l);
            product(layer.attentionOutput(), dim, heads * valueDim, attention, n, x, dim, KernelLauncher.NULL, true);
            kernels.rmsNorm(x, weight(layer.ffnNorm()), xn, n, dim, eps);
            if (layer.fusedGateUp()) {
                product(layer.gate(), 2 * ffn, dim, xn, n, gateUp, 2 * ffn, KernelLauncher.NULL, false);
            } else {
                product(layer.gate(), ffn, dim, xn, n, gateUp, 2 * ffn, KernelLauncher.NULL, false);
                product(layer.up(), ffn, dim, xn, n, gateUp.withByteOffset((long) ffn * Float.BYTES), 2 * ffn,
                        KernelLauncher.NULL, false);
            }
            kernels.swiglu(gateUp, hidden, ffn, n);
            product(layer.down(), dim, ffn, hidden, n, x, dim, KernelLauncher.NULL, true);
        }
        slot.length = start + n;
        if (output == Output.NONE) {
            return;
        }
        int rows = output == Output.ALL ? n : 1;
        CUdeviceptr normed = output == Output.ALL ? x : x.withByteOffset((long) (n - 1) * dim * Float.BYTES);
        kernels.rmsNorm(normed, weight(plan.outputNorm()), xn, rows, dim, eps);
        product(plan.output(), config.vocabularySize(), dim, xn, rows, logitsBuffer(), config.vocabularySize(),
                KernelLauncher.NULL, false);
    }

    /**
     * Picks the token after the slot's last position from the logits on the device, as the CPU
     * sampler would (repetition penalty over the last tokens, then greedy or filtered sampling with
     * the sampler's own random stream), writes it to the slot's token ids and copies it back.
     */
    private int sample(DeviceSequences.Slot slot, Sampler sampler, int historyLength) {
        SamplingParams p = sampler.params();
        int at = slot.length;
        CUdeviceptr ids = tokenIds(slot);
        CUdeviceptr logits = logitsBuffer();
        int vocabulary = config.vocabularySize();
        if (p.repetitionPenalty() != 1f && p.repetitionWindow() > 0 && historyLength > 0) {
            // The history's last tokens are the sequence's last positions, which the device holds.
            int window = Math.min(Math.min(p.repetitionWindow(), historyLength), at);
            kernels.repetitionPenalty(logits, ids, at - window, at, p.repetitionPenalty());
        }
        if (p.temperature() == 0f) {
            kernels.argmax(logits, vocabulary, ids, at);
        } else {
            kernels.sample(logits, vocabulary, p.temperature(), p.topK(), p.topP(), p.minP(), (float) sampler.nextUniform(),
                    ids, at);
        }
        int[] token = new int[1];
        JCudaDriver.cuMemcpyDtoH(Pointer.to(token), ids.withByteOffset((long) at * Integer.BYTES), Integer.BYTES);
        slot.sampledAt = at;
        slot.sampledToken = token[0];
        return token[0];
    }
}
