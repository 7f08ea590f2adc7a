package io.kvcache.cuda;

import io.kvcache.core.kv.FullPolicy;
import io.kvcache.core.kv.KvType;
import io.kvcache.core.kv.HeadMemory;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenSequence;
import io.kvcache.core.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * A sequence whose keys and values live on the GPU: the host keeps only its token ids, from which
 * a device slot that went to another sequence is evaluated again ({@link DeviceSequences}). The
 * device holds the full fp16 cache, every layer and KV head alike, so its memory is counted, not
 * read back: per position, a key and a value row of fp16 per KV head and layer.
 */
final class DeviceSequence implements Sequence {
    private final TokenSequence tokens;
    private final ModelConfig model;

    /**
     * @throws IllegalArgumentException when {@code config} is not the full cache without layer sharing
     */
    DeviceSequence(ModelConfig model, int capacity, KvCacheConfig config) {
        if (!(config.policy() instanceof FullPolicy) || config.layerSharing().shares()) {
            throw new IllegalArgumentException("the cuda backend holds the full cache only, not policy " + config.name());
        }
        if (config.kvType() != KvType.F16) {
            throw new IllegalArgumentException("the cuda backend holds the full cache in fp16 only, not kv-type "
                    + config.kvType().value());
        }
        if (capacity > model.contextLength()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " must be between 1 and the model's context "
                    + "length " + model.contextLength());
        }
        this.tokens = new TokenSequence(capacity);
        this.model = model;
    }

    private DeviceSequence(DeviceSequence other) {
        this.tokens = other.tokens.copy();
        this.model = other.model;
    }

    /** A copy of the tokens; its keys and values are evaluated again from them into a slot of its own. */
    @Override
    public DeviceSequence copy() {
        return new DeviceSequence(this);
    }

    @Override
    public TokenSequence tokens() {
        return tokens;
    }

    @Override
    public KvCacheConfig config() {
        return KvCacheConfig.full();
    }

    /** Forgets positions from {@code position} on; the device slot keeps only what the tokens still cover. */
    @Override
    public void truncate(int position) {
        tokens.truncate(position);
    }

    /** Device bytes per head: fp16 keys and values of every position (no positions or statistics are stored there). */
    @Override
    public KvMemoryReport memory() {
        int length = tokens.length();
        long bytes = (long) length * 2L * (model.headDim() + model.valueDim());
        List<HeadMemory> heads = new ArrayList<>();
        for (int layer = 0; layer < model.layers(); layer++) {
            for (int h = 0; h < model.kvHeads(); h++) {
                heads.add(new HeadMemory(layer, h, "full", -1, length, 0, 0, bytes, bytes, 0));
            }
        }
        return KvMemoryReport.of(length, heads);
    }
}
