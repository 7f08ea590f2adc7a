package io.kvcache.core;

/** A sequence would grow past the context it may use (the model's, or a smaller configured one). */
public class ContextOverflowException extends IllegalArgumentException {
    public ContextOverflowException(String message) {
        super(message);
    }
}
