package io.kvcache.core.backend;

/**
 * Whether a backend can run on this machine, found by probing it once.
 *
 * @param usable whether it can run
 * @param device what it runs on (e.g. "NVIDIA H100 80GB HBM3, compute 9.0, 79.1 GiB"); empty when unusable
 * @param reason why it cannot run; empty when usable
 */
public record BackendStatus(boolean usable, String device, String reason) {

    public static BackendStatus usable(String device) {
        return new BackendStatus(true, device, "");
    }

    public static BackendStatus unusable(String reason) {
        return new BackendStatus(false, "", reason);
    }
}
