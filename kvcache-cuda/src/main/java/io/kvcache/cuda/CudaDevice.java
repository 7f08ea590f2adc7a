package io.kvcache.cuda;

import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * GPU 0 with its primary context and the shipped PTX modules loaded (JIT-compiled by the driver for
 * this GPU). CUDA contexts are current per thread, so every thread that calls into the device
 * first calls {@link #makeCurrent()}.
 */
final class CudaDevice implements AutoCloseable {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final Map<PtxModule, CUmodule> modules = new EnumMap<>(PtxModule.class);
    private final Map<String, CUfunction> functions = new HashMap<>();

    CudaDevice() {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
        JCudaDriver.cuDeviceGet(device, 0);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        try {
            makeCurrent();
            for (PtxModule module : PtxModule.values()) {
                modules.put(module, load(module));
            }
        } catch (RuntimeException e) {
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
            throw e;
        }
    }

    private static CUmodule load(PtxModule module) {
        CUmodule loaded = new CUmodule();
        try {
            JCudaDriver.cuModuleLoadData(loaded, module.loadTerminated());
        } catch (CudaException e) {
            throw new IllegalStateException("the CUDA driver could not JIT-compile " + module.resource() + " (" + e.getMessage()
                    + "); kvcache's PTX is ISA " + PtxRequirements.PTX_ISA + " for " + PtxRequirements.TARGET
                    + " and needs a driver of CUDA " + PtxRequirements.cudaVersion(PtxRequirements.MIN_DRIVER_VERSION)
                    + " or later (Linux " + PtxRequirements.MIN_LINUX_DRIVER + ")", e);
        }
        return loaded;
    }

    void makeCurrent() {
        JCudaDriver.cuCtxSetCurrent(context);
    }

    /** The kernel {@code entry} of {@code module}. */
    synchronized CUfunction function(PtxModule module, String entry) {
        return functions.computeIfAbsent(module + "." + entry, key -> {
            CUfunction function = new CUfunction();
            JCudaDriver.cuModuleGetFunction(function, modules.get(module), entry);
            return function;
        });
    }

    /** Free and total device memory as cuMemGetInfo reports them. */
    long[] memoryInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    @Override
    public void close() {
        makeCurrent();
        for (CUmodule module : modules.values()) {
            JCudaDriver.cuModuleUnload(module);
        }
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
