package io.kvcache.cli;

import io.kvcache.core.tensor.ComputePool;
import picocli.CommandLine.Option;

/** The compute threads of the commands that run a model. */
final class ThreadsOption {
    @Option(names = "--threads", description = "Compute threads (default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();

    ComputePool pool() {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        return new ComputePool(threads);
    }
}
