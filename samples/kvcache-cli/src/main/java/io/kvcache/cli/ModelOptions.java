package io.kvcache.cli;

import io.kvcache.core.model.Model;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by the commands that read a model: the model and the output form. */
final class ModelOptions {
    @Option(names = "--model", required = true, description = "GGUF file or Hugging Face folder")
    Path model;

    @Option(names = "--json", description = "Print JSON instead of text")
    boolean json;

    Model load() {
        return Model.load(model);
    }
}
