package io.kvcache.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The four device allocations of a {@link DeviceMemoryPlan}, with the weights copied in once, as
 * stored. Mapped weights go to the device straight from the mapped file, a slice at a time.
 */
final class DeviceAllocations implements AutoCloseable {
    /** Bytes per host-to-device copy of a mapped tensor (a ByteBuffer view holds at most 2 GiB). */
    private static final long COPY_SLICE = 1L << 30;

    final CUdeviceptr weights = new CUdeviceptr();
    final CUdeviceptr keys = new CUdeviceptr();
    final CUdeviceptr values = new CUdeviceptr();
    final CUdeviceptr activations = new CUdeviceptr();
    private final CUdeviceptr[] all = {weights, keys, values, activations};
    private int allocated;

    DeviceAllocations(DeviceMemoryPlan plan) {
        long[] sizes = plan.allocations();
        try {
            for (int i = 0; i < all.length; i++) {
                JCudaDriver.cuMemAlloc(all[i], Math.max(1, sizes[i]));
                allocated++;
            }
            for (WeightSlot slot : plan.weights()) {
                upload(slot.source(), weights.withByteOffset(slot.offset()));
            }
            // Unwritten cache rows are never read (attention stops at the sequence's length), but zeros keep a bug visible.
            JCudaDriver.cuMemsetD8(keys, (byte) 0, Math.max(1, sizes[1]));
            JCudaDriver.cuMemsetD8(values, (byte) 0, Math.max(1, sizes[2]));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static void upload(MemorySegment source, CUdeviceptr target) {
        if (!source.isNative()) {
            byte[] bytes = source.toArray(ValueLayout.JAVA_BYTE);
            JCudaDriver.cuMemcpyHtoD(target, Pointer.to(bytes), bytes.length);
            return;
        }
        for (long at = 0; at < source.byteSize(); at += COPY_SLICE) {
            long length = Math.min(COPY_SLICE, source.byteSize() - at);
            JCudaDriver.cuMemcpyHtoD(target.withByteOffset(at), Pointer.to(source.asSlice(at, length).asByteBuffer()), length);
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < allocated; i++) {
            JCudaDriver.cuMemFree(all[i]);
        }
        allocated = 0;
    }
}
