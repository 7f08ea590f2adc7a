package io.kvcache.core.model;

/** Which elements of a head RoPE rotates together. */
public enum RopeStyle {
    /** Pairs (2i, 2i+1): GGUF llama files, whose q/k rows were permuted on conversion. */
    INTERLEAVED,
    /** Pairs (i, i + d/2): GGUF qwen files and every Hugging Face checkpoint ("rotate_half"). */
    HALVES
}
