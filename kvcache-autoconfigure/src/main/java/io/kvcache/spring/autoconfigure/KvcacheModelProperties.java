package io.kvcache.spring.autoconfigure;

import io.kvcache.spring.model.ModelSource;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/** {@code kvcache.model.*}: where the model comes from ({@code path} on disk or the classpath, or {@code url}, not both). */
@ConfigurationProperties("kvcache.model")
@Validated
public class KvcacheModelProperties {
    /** A GGUF file or a Hugging Face folder on disk, or a classpath: resource. Set this or url, not both. */
    private String path;

    /**
     * A GGUF file to download once into cache-dir: an http(s):// URL, or hf:owner/repo/file.gguf for a file of a
     * Hugging Face repository, optionally pinned with @revision (a branch, tag or commit; main by default). Set
     * this or path, not both.
     */
    private String url;

    /** Where downloaded models are kept; by default .cache/kvcache/models in the user's home folder. */
    private String cacheDir;

    /**
     * The model file's SHA-256 (64 hex digits). A download must match it before it is used; a file given by path
     * is checked at every start.
     */
    private String sha256;

    /** The Hugging Face server that hf: URLs expand against, e.g. a mirror. */
    private String hfEndpoint = "https://huggingface.co";

    /** Positions a conversation may reach; 0 means the model's own context length. */
    @Min(0)
    private int contextLength = 0;

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }

    public String getUrl() {
        return url;
    }

    public void setUrl(String url) {
        this.url = url;
    }

    public String getCacheDir() {
        return cacheDir;
    }

    public void setCacheDir(String cacheDir) {
        this.cacheDir = cacheDir;
    }

    /** Where the model comes from, as the locator takes it. */
    public ModelSource source() {
        return new ModelSource(path, url, cacheDir, sha256, hfEndpoint);
    }

    public String getSha256() {
        return sha256;
    }

    public void setSha256(String sha256) {
        this.sha256 = sha256;
    }

    public String getHfEndpoint() {
        return hfEndpoint;
    }

    public void setHfEndpoint(String hfEndpoint) {
        this.hfEndpoint = hfEndpoint;
    }

    public int getContextLength() {
        return contextLength;
    }

    public void setContextLength(int contextLength) {
        this.contextLength = contextLength;
    }
}
