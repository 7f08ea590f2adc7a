package io.kvcache.core;

/**
 * A model file (or folder) that cannot be used: truncated, corrupt, of an unknown version, or
 * holding something kvcache does not support. The message names the file and what was wrong.
 */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
