package io.kvcache.samples.chatbot;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Models from the shared test data in {@code ../shared} beside the repository root. */
final class SharedModels {
    private SharedModels() {
    }

    static Path path(String relative) {
        String configured = System.getProperty("kvcache.shared.dir");
        return Path.of(configured != null ? configured : "../../../shared").toAbsolutePath().normalize().resolve(relative);
    }

    /** Skips the calling tests where the model is absent. */
    static void require(Path model) {
        assumeTrue(Files.exists(model), () -> "skipped: shared test model " + model
                + " is absent (expected ../shared beside the repository)");
    }
}
