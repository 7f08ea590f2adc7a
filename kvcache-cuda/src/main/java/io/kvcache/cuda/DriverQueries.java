package io.kvcache.cuda;

/**
 * The driver calls {@link CudaProbe} makes, so that its decisions can be tested without a GPU.
 * {@link JCudaDriverQueries} makes them through JCuda.
 */
interface DriverQueries {
    /** cuInit. */
    void init();

    /** cuDriverGetVersion, e.g. 13000 for CUDA 13.0. */
    int driverVersion();

    /** cuDeviceGetCount. */
    int deviceCount();

    /** Name, compute capability and memory of device {@code ordinal}. */
    Device device(int ordinal);

    /**
     * @param computeCapability major * 10 + minor
     */
    record Device(String name, int computeCapability, long totalBytes) {
    }
}
