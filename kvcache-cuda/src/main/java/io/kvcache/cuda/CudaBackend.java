package io.kvcache.cuda;

import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.model.Model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model on GPU 0: its {@link DeviceMemoryPlan} checked against the free device memory, the four
 * allocations made and the weights copied in, and the {@link CudaTransformer} over them.
 */
final class CudaBackend implements Backend {
    /** Most tokens of a prompt evaluated per forward launch sequence (the activation buffers hold this many rows). */
    static final int CHUNK = 256;

    private final CudaStatus status;
    private final DeviceMemoryPlan plan;
    private final CudaDevice device;
    private final DeviceAllocations memory;
    private final CudaTransformer transformer;

    CudaBackend(Model model, BackendSettings settings, CudaStatus status) {
        var config = model.config();
        // The kernels compute the plain Llama block; the other families' scales, caps, post norms,
        // GeGLU, windows and per-layer RoPE run on the cpu backend only.
        if (!config.traits().plainBlock(config.headDim())) {
            throw new IllegalStateException("kvcache.backend=cuda: " + config.architecture().ggufName()
                    + " models run on the cpu backend only (kvcache.backend=cpu); the cuda backend runs llama, qwen2 and qwen3");
        }
        this.status = status;
        this.plan = DeviceMemoryPlan.of(model, settings.contextLength(), settings.sequences(),
                Math.min(CHUNK, settings.contextLength()));
        this.device = new CudaDevice();
        DeviceAllocations allocations = null;
        try {
            plan.shortfall(device.memoryInfo()[0]).ifPresent(reason -> {
                throw new IllegalStateException("kvcache.backend=cuda: " + reason);
            });
            allocations = new DeviceAllocations(plan);
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        this.memory = allocations;
        this.transformer = new CudaTransformer(plan, device, memory);
    }

    @Override
    public String name() {
        return CudaBackendProvider.NAME;
    }

    @Override
    public String device() {
        return status.description();
    }

    @Override
    public ForwardPass forwardPass() {
        return transformer;
    }

    DeviceMemoryPlan plan() {
        return plan;
    }

    /** Free and total device memory now, as cuMemGetInfo reports them. */
    long[] memoryInfo() {
        device.makeCurrent();
        return device.memoryInfo();
    }

    @Override
    public Map<String, Object> details() {
        long[] info = memoryInfo();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("deviceBytesPlanned", plan.deviceBytes());
        details.put("weightBytes", plan.weightBytes());
        details.put("kvCacheBytes", plan.keyBytes() + plan.valueBytes());
        details.put("activationBytes", plan.activations().bytes());
        details.put("sequencesOnDevice", plan.sequences());
        details.put("deviceFreeBytes", info[0]);
        details.put("deviceTotalBytes", info[1]);
        return details;
    }

    @Override
    public void close() {
        device.makeCurrent();
        memory.close();
        device.close();
    }
}
