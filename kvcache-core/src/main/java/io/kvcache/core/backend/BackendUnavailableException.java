package io.kvcache.core.backend;

/** The requested backend cannot run: absent from the class path, unusable on this machine, or unable to run the policy. */
public final class BackendUnavailableException extends IllegalStateException {
    public BackendUnavailableException(String message) {
        super(message);
    }
}
