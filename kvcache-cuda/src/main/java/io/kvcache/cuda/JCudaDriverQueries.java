package io.kvcache.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;

/**
 * The probe's driver calls through JCuda, with JCuda's exceptions on (a failing call throws
 * {@link jcuda.CudaException}). Touching {@link JCudaDriver} loads JCuda's native binding, which
 * needs the driver library libcuda.so.1: without it the first touch throws UnsatisfiedLinkError and
 * every later one NoClassDefFoundError.
 */
final class JCudaDriverQueries implements DriverQueries {

    @Override
    public void init() {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
    }

    @Override
    public int driverVersion() {
        int[] version = new int[1];
        JCudaDriver.cuDriverGetVersion(version);
        return version[0];
    }

    @Override
    public int deviceCount() {
        int[] count = new int[1];
        JCudaDriver.cuDeviceGetCount(count);
        return count[0];
    }

    @Override
    public Device device(int ordinal) {
        CUdevice device = new CUdevice();
        JCudaDriver.cuDeviceGet(device, ordinal);
        byte[] name = new byte[256];
        JCudaDriver.cuDeviceGetName(name, name.length, device);
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        int[] major = new int[1];
        int[] minor = new int[1];
        JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        long[] total = new long[1];
        JCudaDriver.cuDeviceTotalMem(total, device);
        return new Device(new String(name, 0, length, StandardCharsets.UTF_8), major[0] * 10 + minor[0], total[0]);
    }
}
