package io.kvcache.cuda;

/**
 * The outcome of probing the CUDA driver: whether the backend can run, and on which GPU.
 *
 * @param usable            whether the driver loads, is recent enough for the shipped PTX and sees a capable GPU
 * @param reason            why not (empty when usable)
 * @param deviceName        the GPU's name (empty when none was reached)
 * @param computeCapability major * 10 + minor (0 when unknown)
 * @param totalBytes        the GPU's memory (0 when unknown)
 * @param driverVersion     as cuDriverGetVersion reports it, e.g. 13000 for CUDA 13.0 (0 when unknown)
 */
public record CudaStatus(boolean usable, String reason, String deviceName, int computeCapability, long totalBytes,
                         int driverVersion) {

    static CudaStatus unusable(String reason) {
        return new CudaStatus(false, reason, "", 0, 0, 0);
    }

    static CudaStatus unusable(String reason, int driverVersion) {
        return new CudaStatus(false, reason, "", 0, 0, driverVersion);
    }

    /** The device in words, e.g. "NVIDIA H100 80GB HBM3 (compute 9.0, 79.2 GiB, CUDA 13.0 driver)". */
    public String description() {
        if (deviceName.isEmpty()) {
            return "";
        }
        return String.format(java.util.Locale.ROOT, "%s (compute %d.%d, %.1f GiB, CUDA %s driver)", deviceName,
                computeCapability / 10, computeCapability % 10, totalBytes / (double) (1L << 30),
                PtxRequirements.cudaVersion(driverVersion));
    }
}
