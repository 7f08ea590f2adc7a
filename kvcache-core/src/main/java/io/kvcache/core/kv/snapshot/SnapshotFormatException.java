package io.kvcache.core.kv.snapshot;

/**
 * Bytes that are no cache snapshot this build can restore: truncated, corrupt, of another format
 * version, or written for another model or policy. The message says which.
 */
public class SnapshotFormatException extends RuntimeException {
    public SnapshotFormatException(String message) {
        super(message);
    }

    public SnapshotFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
