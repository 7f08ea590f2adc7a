package io.kvcache.cuda;

import jcuda.CudaException;

import java.util.function.Supplier;

/**
 * Finds out once per JVM whether the CUDA backend can run: JCuda's driver binding loads (it needs
 * the driver library), the driver can JIT-compile the shipped PTX (see {@link PtxRequirements}),
 * and it sees a GPU of sufficient compute capability. Every failure becomes an unusable status with
 * its reason; nothing is thrown. The backend runs on device 0.
 */
public final class CudaProbe {
    private static volatile CudaStatus status;

    private CudaProbe() {
    }

    /** The probe's outcome, probing on the first call. */
    public static CudaStatus status() {
        CudaStatus s = status;
        if (s == null) {
            synchronized (CudaProbe.class) {
                s = status;
                if (s == null) {
                    s = probe(JCudaDriverQueries::new);
                    status = s;
                }
            }
        }
        return s;
    }

    static CudaStatus probe(Supplier<DriverQueries> driver) {
        try {
            DriverQueries queries = driver.get();
            queries.init();
            int version = queries.driverVersion();
            if (version < PtxRequirements.MIN_DRIVER_VERSION) {
                return CudaStatus.unusable("the CUDA driver supports CUDA " + PtxRequirements.cudaVersion(version)
                        + ", but kvcache's kernels are PTX ISA " + PtxRequirements.PTX_ISA + ", which needs a driver of CUDA "
                        + PtxRequirements.cudaVersion(PtxRequirements.MIN_DRIVER_VERSION) + " or later (Linux "
                        + PtxRequirements.MIN_LINUX_DRIVER + " or later)", version);
            }
            int devices = queries.deviceCount();
            if (devices == 0) {
                return CudaStatus.unusable("the CUDA driver sees no GPU", version);
            }
            DriverQueries.Device device = queries.device(0);
            if (device.computeCapability() < PtxRequirements.MIN_COMPUTE_CAPABILITY) {
                return CudaStatus.unusable(device.name() + " has compute capability " + device.computeCapability() / 10
                        + "." + device.computeCapability() % 10 + "; kvcache's kernels need "
                        + PtxRequirements.MIN_COMPUTE_CAPABILITY / 10 + "." + PtxRequirements.MIN_COMPUTE_CAPABILITY % 10
                        + " or later", version);
            }
            return new CudaStatus(true, "", device.name(), device.computeCapability(), device.totalBytes(), version);
        } catch (LinkageError e) {
            return CudaStatus.unusable("no CUDA driver: JCuda's driver binding did not load (" + e + ")");
        } catch (CudaException e) {
            return CudaStatus.unusable("the CUDA driver failed while probing: " + e.getMessage());
        }
    }
}
