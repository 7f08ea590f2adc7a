package io.kvcache.cuda;

/**
 * What the shipped PTX needs from a machine. nvcc 13.0 writes PTX ISA 9.0, which only a driver of
 * CUDA 13.0 or later can JIT-compile (Linux 580.65.06 or later); the virtual architecture
 * compute_75 makes it run on GPUs of compute capability 7.5 (Turing) and later. PtxResourcesTest
 * checks that every shipped PTX file declares exactly these, so the figures here and in the README
 * change together with the compiler.
 */
public final class PtxRequirements {
    /** The {@code .version} every shipped PTX file declares. */
    public static final String PTX_ISA = "9.0";
    /** The {@code .target} every shipped PTX file declares. */
    public static final String TARGET = "sm_75";
    /** The oldest driver that loads PTX ISA 9.0, as cuDriverGetVersion reports it (CUDA 13.0). */
    public static final int MIN_DRIVER_VERSION = 13000;
    /** The same driver as a Linux driver release. */
    public static final String MIN_LINUX_DRIVER = "580.65.06";
    /** The oldest compute capability the PTX's target allows, as major * 10 + minor. */
    public static final int MIN_COMPUTE_CAPABILITY = 75;

    private PtxRequirements() {
    }

    /** A driver version as cuDriverGetVersion reports it (13000) in the usual form (13.0). */
    public static String cudaVersion(int driverVersion) {
        return driverVersion / 1000 + "." + driverVersion % 1000 / 10;
    }
}
