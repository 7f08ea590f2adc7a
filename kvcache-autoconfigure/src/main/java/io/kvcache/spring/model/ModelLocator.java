package io.kvcache.spring.model;

import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Finds the model file that {@code kvcache.model.*} names: {@code path}, a file or folder on disk or
 * a {@code classpath:} resource (copied once to a temporary file, since weights are memory-mapped);
 * or {@code url}, downloaded once into {@code cache-dir}. Exactly one of the two must be set. A
 * configured {@code sha256} is checked either way. A missing model is one clear error saying where
 * it looked and how to fix it.
 */
public final class ModelLocator {
    private static final String PATH = "kvcache.model.path";
    private static final String CLASSPATH = "classpath:";

    private ModelLocator() {
    }

    public static Path locate(ModelSource source, ResourceLoader resources, ModelDownloader downloader) {
        boolean hasPath = source.hasPath();
        boolean hasUrl = source.hasUrl();
        if (hasPath && hasUrl) {
            throw new IllegalArgumentException(PATH + "=" + source.path() + " and " + ModelUrl.PROPERTY + "="
                    + ModelUrl.redact(source.url()) + " are both set; set one: path for a model on disk or the classpath, url for one "
                    + "to download");
        }
        if (!hasPath && !hasUrl) {
            throw new ModelNotFoundException("neither " + PATH + " nor " + ModelUrl.PROPERTY + " is set: point "
                    + PATH + " at a GGUF file or a Hugging Face model folder (e.g. /models/SmolLM2-135M-Instruct-Q8_0.gguf), "
                    + "or " + ModelUrl.PROPERTY + " at one to download (e.g. "
                    + "hf:bartowski/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q8_0.gguf)");
        }
        String sha256 = source.sha256() == null || source.sha256().isBlank() ? null : Sha256.expected(source.sha256());
        if (hasUrl) {
            ModelUrl url = ModelUrl.parse(source.url(), source.hfEndpoint());
            return downloader.fetch(url, source.cacheDirectory(), sha256);
        }
        Path file = onDisk(source.path(), resources);
        if (sha256 != null) {
            checkLocal(file, sha256, source.path());
        }
        return file;
    }

    private static Path onDisk(String location, ResourceLoader resources) {
        if (location.startsWith("http://") || location.startsWith("https://") || location.startsWith("hf:")) {
            throw new IllegalArgumentException(PATH + "=" + ModelUrl.redact(location) + " is a URL; set " + ModelUrl.PROPERTY
                    + " to download the model, or give " + PATH + " a file on disk");
        }
        if (location.startsWith(CLASSPATH)) {
            Resource resource = resources.getResource(location);
            if (!resource.exists()) {
                throw new ModelNotFoundException(PATH + "=" + location + ": no such resource on the classpath; "
                        + "put the GGUF file under src/main/resources or give a file path");
            }
            return copyToTemporaryFile(resource, location);
        }
        Path path = Path.of(location).toAbsolutePath();
        if (!Files.exists(path)) {
            throw new ModelNotFoundException(PATH + "=" + location + ": no file or folder at " + path
                    + "; give the path of a GGUF file or a Hugging Face model folder, or set " + ModelUrl.PROPERTY
                    + " to download one");
        }
        return path;
    }

    /** A file the user owns that does not match is reported, never touched. */
    private static void checkLocal(Path file, String sha256, String location) {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(Sha256.PROPERTY + " names one file's digest, but " + PATH + "=" + location
                    + " is a folder; remove " + Sha256.PROPERTY + " or point " + PATH + " at a GGUF file");
        }
        String actual = Sha256.of(file);
        if (!actual.equals(sha256)) {
            throw new IllegalStateException(Sha256.PROPERTY + ": " + file + " has SHA-256 " + actual + " but " + sha256
                    + " was expected; check " + Sha256.PROPERTY + " or " + PATH);
        }
    }

    private static Path copyToTemporaryFile(Resource resource, String location) {
        try (InputStream in = resource.getInputStream()) {
            String name = resource.getFilename() == null ? "model.gguf" : resource.getFilename();
            Path file = Files.createTempFile("kvcache-", "-" + name);
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(PATH + "=" + location + ": cannot copy the resource to a file", e);
        }
    }

}
