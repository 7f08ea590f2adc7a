package io.kvcache.cli;

import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by the commands that run a model. */
final class ModelOptions {
    @Option(names = "--model", required = true, description = "GGUF file or Hugging Face folder")
    Path model;

    @Option(names = "--threads", description = "Compute threads (default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--json", description = "Print JSON instead of text")
    boolean json;

    ComputePool pool() {
        return pool(threads);
    }

    static ComputePool pool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        return new ComputePool(threads);
    }

    Model load() {
        return Model.load(model);
    }
}
