package io.kvcache.core.kv;

/**
 * The memory of one KV head of one layer in one sequence.
 *
 * @param layer        layer index
 * @param kvHead       KV head index
 * @param policy       the head's policy (for {@code adaptive}, the composite chosen for this head)
 * @param sharedWith   the layer whose cache this layer attends to, or -1 when it holds its own
 * @param entries      entries held as computed
 * @param lowPrecision entries held in low precision
 * @param merged       merged span entries held
 * @param bytesHeld    bytes of the entries held (rows, scales, positions, statistics, biases, key factors);
 *                     0 for a layer that attends to another layer's cache
 * @param fullBytes    bytes the {@code full} fp16 cache would hold for the same tokens
 * @param moves        times the quality guardrail moved this head to a safer policy ({@link Guardrail}); 0 for a
 *                     layer that attends to another layer's cache
 */
public record HeadMemory(int layer, int kvHead, String policy, int sharedWith, int entries, int lowPrecision,
                         int merged, long bytesHeld, long fullBytes, int moves) {
}
