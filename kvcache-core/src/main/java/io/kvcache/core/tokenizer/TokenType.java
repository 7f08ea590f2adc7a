package io.kvcache.core.tokenizer;

/** The kind of a vocabulary entry, as GGUF's {@code tokenizer.ggml.token_type} numbers them (1 to 6). */
public enum TokenType {
    NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    /** The type for a GGUF token_type value; values outside 1..6 (llama.cpp's "undefined") read as UNUSED. */
    static TokenType fromGguf(int value) {
        return value >= 1 && value <= 6 ? values()[value - 1] : UNUSED;
    }
}
