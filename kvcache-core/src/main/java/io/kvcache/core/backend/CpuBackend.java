package io.kvcache.core.backend;

import io.kvcache.core.model.Model;
import io.kvcache.core.model.Transformer;
import io.kvcache.core.tensor.ComputePool;

import java.util.Map;

/** The forward pass on the CPU's threads; owns the pool it is given. */
public final class CpuBackend implements Backend {
    private final ComputePool pool;
    private final Transformer transformer;

    public CpuBackend(Model model, ComputePool pool) {
        this.pool = pool;
        this.transformer = new Transformer(model, pool);
    }

    @Override
    public String name() {
        return CpuBackendProvider.NAME;
    }

    @Override
    public String device() {
        return System.getProperty("os.arch");
    }

    @Override
    public Transformer forwardPass() {
        return transformer;
    }

    public int threads() {
        return pool.threads();
    }

    @Override
    public Map<String, Object> details() {
        return Map.of("threads", pool.threads());
    }

    @Override
    public void close() {
        pool.close();
    }
}
