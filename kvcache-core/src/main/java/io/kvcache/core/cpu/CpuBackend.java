package io.kvcache.core.cpu;

import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import jdk.incubator.vector.FloatVector;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** The forward pass on the CPU's threads; owns the pool it is given. */
public final class CpuBackend implements Backend {
    private final ComputePool pool;
    private final CpuForwardPass transformer;

    public CpuBackend(Model model, ComputePool pool) {
        this.pool = pool;
        this.transformer = new CpuForwardPass(model, pool);
    }

    @Override
    public String name() {
        return CpuBackendProvider.NAME;
    }

    /** The processor's name where the system tells it (Linux), its architecture, and the vector width the kernels use. */
    @Override
    public String device() {
        String arch = System.getProperty("os.arch") + ", " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors";
        return processorName(Path.of("/proc/cpuinfo")).map(name -> name + " (" + arch + ")").orElse(arch);
    }

    /** The first {@code model name} of a cpuinfo file, if it has one. */
    static Optional<String> processorName(Path cpuinfo) {
        if (!Files.isReadable(cpuinfo)) {
            return Optional.empty();
        }
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(line -> line.startsWith("model name") && line.indexOf(':') > 0)
                    .map(line -> line.substring(line.indexOf(':') + 1).strip())
                    .filter(name -> !name.isEmpty())
                    .findFirst();
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty(); // a device description is a courtesy, not worth failing over
        }
    }

    @Override
    public CpuForwardPass forwardPass() {
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
