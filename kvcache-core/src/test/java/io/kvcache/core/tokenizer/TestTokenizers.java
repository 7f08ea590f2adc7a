package io.kvcache.core.tokenizer;

import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Tokenizers of the shared test files, loaded once per test run. */
final class TestTokenizers {
    private static final Map<Path, Tokenizer> CACHE = new ConcurrentHashMap<>();

    private TestTokenizers() {
    }

    /** The tokenizer of the GGUF file at {@code relative} under the shared data (skips when absent). */
    static Tokenizer gguf(String relative) {
        return gguf(SharedData.require(relative));
    }

    static Tokenizer gguf(Path path) {
        return CACHE.computeIfAbsent(path, p -> {
            try (GgufFile file = GgufFile.open(p)) {
                return Tokenizers.fromGguf(file.metadata());
            }
        });
    }
}
