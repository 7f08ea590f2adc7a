package io.kvcache.spring.model;

import java.nio.file.Path;

/**
 * Where a model comes from, as {@code kvcache.model.*} names it: {@code path} (a file or folder on
 * disk, or a {@code classpath:} resource) or {@code url} (downloaded once into {@code cacheDir}),
 * not both; optionally its SHA-256.
 *
 * @param path       a GGUF file, a Hugging Face folder or a classpath: resource; null or blank when unset
 * @param url        an http(s) URL or {@code hf:owner/repo/file.gguf[@revision]}; null or blank when unset
 * @param cacheDir   where downloads are kept; null or blank for .cache/kvcache/models in the user's home folder
 * @param sha256     the file's expected SHA-256 (64 hex digits); null or blank when not checked
 * @param hfEndpoint the Hugging Face server {@code hf:} URLs expand against
 */
public record ModelSource(String path, String url, String cacheDir, String sha256, String hfEndpoint) {

    public boolean hasPath() {
        return path != null && !path.isBlank();
    }

    public boolean hasUrl() {
        return url != null && !url.isBlank();
    }

    /** {@link #cacheDir()}, or its default under the user's home folder. */
    public Path cacheDirectory() {
        return cacheDir == null || cacheDir.isBlank()
                ? Path.of(System.getProperty("user.home"), ".cache", "kvcache", "models")
                : Path.of(cacheDir);
    }
}
