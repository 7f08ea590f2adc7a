package io.kvcache.core.model;

/** The gated activation of the feed-forward block: act(gate) * up. */
public enum Activation {
    /** SwiGLU: silu(gate) * up (Llama, Qwen, Phi, Granite, SmolLM). */
    SILU,
    /** GeGLU: gelu(gate) * up with GELU's tanh approximation (Gemma). */
    GELU
}
