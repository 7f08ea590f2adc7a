package io.kvcache.cuda;

/**
 * The weights of one transformer block on the device. The q, k and v matrices lie back to back
 * (and so do gate and up), so when their types match one launch multiplies all of them, writing
 * side by side into one activation row; the q/k/v biases lie back to back the same way.
 * {@code null}: absent (biases but in Qwen 2, q/k norms but in Qwen 3, k/v in a layer that attends
 * to another layer's cache).
 */
public record LayerSlots(WeightSlot attentionNorm, WeightSlot query, WeightSlot key, WeightSlot value,
                         WeightSlot qkvBias, WeightSlot queryNorm, WeightSlot keyNorm, WeightSlot attentionOutput,
                         WeightSlot ffnNorm, WeightSlot gate, WeightSlot up, WeightSlot down) {

    /** Whether one launch can multiply q, k and v together: present, one type, contiguous. */
    public boolean fusedQkv() {
        return key != null && query.type() == key.type() && key.type() == value.type()
                && query.end() == key.offset() && key.end() == value.offset();
    }

    /** Whether one launch can multiply gate and up together. */
    public boolean fusedGateUp() {
        return gate.type() == up.type() && gate.end() == up.offset();
    }
}
