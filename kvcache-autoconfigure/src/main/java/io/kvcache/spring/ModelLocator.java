package io.kvcache.spring;

import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Finds the model file that {@code kvcache.model.path} names: a file or folder on disk, or a
 * {@code classpath:} resource (copied once to a temporary file, since weights are memory-mapped).
 * A missing model is one clear error saying where it looked and how to fix it.
 */
final class ModelLocator {
    private ModelLocator() {
    }

    static Path locate(String location, ResourceLoader resources) {
        if (location == null || location.isBlank()) {
            throw new ModelNotFoundException("kvcache.model.path is not set: point it at a GGUF file or a Hugging Face "
                    + "model folder, e.g. kvcache.model.path=/models/SmolLM2-135M-Instruct-Q8_0.gguf");
        }
        if (location.startsWith("classpath:")) {
            Resource resource = resources.getResource(location);
            if (!resource.exists()) {
                throw new ModelNotFoundException("kvcache.model.path=" + location + ": no such resource on the classpath; "
                        + "put the GGUF file under src/main/resources or give a file path");
            }
            return copyToTemporaryFile(resource, location);
        }
        Path path = Path.of(location).toAbsolutePath();
        if (!Files.exists(path)) {
            throw new ModelNotFoundException("kvcache.model.path=" + location + ": no file or folder at " + path
                    + "; give the path of a GGUF file or a Hugging Face model folder");
        }
        return path;
    }

    private static Path copyToTemporaryFile(Resource resource, String location) {
        try (InputStream in = resource.getInputStream()) {
            String name = resource.getFilename() == null ? "model.gguf" : resource.getFilename();
            Path file = Files.createTempFile("kvcache-", "-" + name);
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("kvcache.model.path=" + location + ": cannot copy the resource to a file", e);
        }
    }

    /** The model kvcache.model.path names does not exist. */
    static final class ModelNotFoundException extends IllegalStateException {
        ModelNotFoundException(String message) {
            super(message);
        }
    }
}
