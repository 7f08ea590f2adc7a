package io.kvcache.core;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shared test data (models, llama.cpp references, texts) that sits in {@code ../shared} beside
 * the repository root. Tests that need it call {@link #require(String)}, which skips the test with
 * a clear message where the folder is absent.
 */
public final class SharedData {
    private SharedData() {
    }

    public static Path root() {
        String configured = System.getProperty("kvcache.shared.dir");
        return Path.of(configured != null ? configured : "../shared").toAbsolutePath().normalize();
    }

    /** The file or folder {@code relative} under the shared data; skips the calling test when it is absent. */
    public static Path require(String relative) {
        Path path = root().resolve(relative);
        Assumptions.assumeTrue(Files.exists(path),
                () -> "skipped: shared test data " + path + " is absent (expected ../shared beside the repository)");
        return path;
    }
}
