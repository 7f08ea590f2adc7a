package io.kvcache.cli;

import io.kvcache.core.eval.KvQuality;
import io.kvcache.core.model.ModelConfig;

import java.nio.file.Path;
import java.util.List;

/**
 * Every sweep point measured on one model.
 *
 * @param file     the model file
 * @param config   its shape
 * @param settings the harness settings used
 * @param rows     one per {@link KvSweep#POINTS} entry, in that order
 * @param seconds  wall time of the whole sweep
 */
record ModelQuality(Path file, ModelConfig config, KvQuality.Settings settings, List<Row> rows, double seconds) {

    /** @param seconds wall time of this one evaluation */
    record Row(KvSweep.Point point, KvQuality.Report report, double seconds) {
    }

    /** The file name without its extension, as the model is named on the command line. */
    String label() {
        String name = file.getFileName().toString();
        return name.endsWith(".gguf") ? name.substring(0, name.length() - ".gguf".length()) : name;
    }

    /** Chunks actually evaluated (fewer than asked for when the text is short): each scores the second half. */
    int chunks() {
        return rows.getFirst().report().scoredTokens() / (settings.context() - settings.context() / 2);
    }
}
