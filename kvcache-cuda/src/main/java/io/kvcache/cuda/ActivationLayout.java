package io.kvcache.cuda;

import io.kvcache.core.model.ModelConfig;

/**
 * The device buffers of one forward call of up to {@code chunk} tokens, as byte offsets in one
 * allocation; longer prompts are evaluated a chunk at a time. Per token (row): the residual stream
 * x, its normed copy xn, q|k|v side by side, the attention output, gate|up side by side, the SwiGLU
 * output, and logits; plus each sequence's token ids (its history, which the sampler appends to and
 * the embedding lookup reads; see {@link #tokenRow}).
 */
public record ActivationLayout(int chunk, long x, long xn, long qkv, long attention, long gateUp, long hidden,
                               long logits, long tokens, long bytes) {

    static ActivationLayout of(ModelConfig c, int chunk, int sequences, int contextLength) {
        ArenaLayout arena = new ArenaLayout();
        long rows = chunk;
        long x = arena.place(rows * c.dim() * Float.BYTES);
        long xn = arena.place(rows * c.dim() * Float.BYTES);
        long qkv = arena.place(rows * qkvWidth(c) * Float.BYTES);
        long attention = arena.place(rows * c.heads() * c.valueDim() * Float.BYTES);
        long gateUp = arena.place(rows * 2L * c.ffnDim() * Float.BYTES);
        long hidden = arena.place(rows * c.ffnDim() * Float.BYTES);
        long logits = arena.place(rows * c.vocabularySize() * Float.BYTES);
        long tokens = arena.place((long) sequences * tokenRow(contextLength) * Integer.BYTES);
        return new ActivationLayout(chunk, x, xn, qkv, attention, gateUp, hidden, logits, tokens, arena.size());
    }

    /**
     * Token ids kept per sequence: one per position, plus one for the token sampled after the last
     * position (which has no position of its own once the context is full).
     */
    public static int tokenRow(int contextLength) {
        return contextLength + 1;
    }

    /** Floats of one token's q|k|v row. */
    public static int qkvWidth(ModelConfig c) {
        return c.heads() * c.headDim() + c.kvHeads() * c.headDim() + c.kvHeads() * c.valueDim();
    }
}
