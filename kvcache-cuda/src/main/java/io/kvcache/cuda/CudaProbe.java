package io.kvcache.cuda;

import jcuda.CudaException;

import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds out once per JVM whether the CUDA backend can run: JCuda's driver binding loads (it needs
 * the driver library), the driver can JIT-compile the shipped PTX (see {@link PtxRequirements}),
 * and it sees a GPU of sufficient compute capability. Every failure becomes an unusable status with
 * its reason; nothing is thrown. The backend runs on device 0.
 */
public final class CudaProbe {
    /** The dynamic linker's complaint inside JCuda's long loading report, e.g. "libcuda.so.1: cannot open shared object file: ...". */
    private static final Pattern MISSING_LIBRARY = Pattern.compile("[\\w.+-]+: cannot open shared object file[^\\n)]*");

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
            return CudaStatus.unusable("no CUDA driver: JCuda's driver binding did not load (" + linkFailure(e) + ")");
        } catch (CudaException e) {
            return CudaStatus.unusable("the CUDA driver failed while probing: " + e.getMessage());
        }
    }

    /**
     * The gist of a failure to load JCuda's binding: JCuda reports every path it tried with nested
     * stack traces, and a later touch of the class reports only that it failed before.
     */
    static String linkFailure(LinkageError error) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            text.append(t).append('\n');
        }
        Matcher missing = MISSING_LIBRARY.matcher(text);
        if (missing.find()) {
            return missing.group().strip();
        }
        return text.toString().lines().findFirst().orElse(error.getClass().getName());
    }
}
