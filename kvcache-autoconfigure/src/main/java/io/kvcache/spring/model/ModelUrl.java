package io.kvcache.spring.model;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A model to download, as {@code kvcache.model.url} names it: an {@code http://} or
 * {@code https://} URL, or the Hugging Face shorthand {@code hf:owner/repo/file.gguf} (a file in a
 * subfolder of the repository is {@code hf:owner/repo/folder/file.gguf}), optionally pinned to a
 * branch, tag or commit with {@code @revision} at the end. The shorthand means
 * {@code <hf-endpoint>/owner/repo/resolve/<revision or main>/file.gguf}.
 *
 * @param value the property's value
 * @param uri   what is downloaded
 */
record ModelUrl(String value, URI uri) {
    static final String PROPERTY = "kvcache.model.url";
    private static final String HF = "hf:";
    /** user:password@ after the scheme, and a query string: where URLs carry credentials and tokens. */
    private static final Pattern USER_INFO = Pattern.compile("(//)[^/@?#]*@");
    private static final Pattern QUERY = Pattern.compile("\\?[^#]*");

    /**
     * {@code text} (a URL, or a property value holding one) with its user information and query
     * replaced by {@code ***}, for log lines and messages: those are where credentials and access
     * tokens travel, and logs are read by more people than configuration.
     */
    static String redact(String text) {
        return QUERY.matcher(USER_INFO.matcher(text).replaceAll("$1***@")).replaceAll("?***");
    }

    /** The URL for messages, without credentials ({@link #redact}). */
    String redacted() {
        return redact(uri.toString());
    }

    /** The property's value for messages, without credentials ({@link #redact}). */
    String redactedValue() {
        return redact(value);
    }

    /** Credentials stay out of logs that print the record. */
    @Override
    public String toString() {
        return redacted();
    }

    /** Parses the property's value; {@code hfEndpoint} is the base URL the shorthand expands against. */
    static ModelUrl parse(String value, String hfEndpoint) {
        String trimmed = value.strip();
        if (trimmed.startsWith(HF)) {
            return new ModelUrl(value, huggingFace(value, trimmed.substring(HF.length()), hfEndpoint));
        }
        URI uri;
        try {
            uri = new URI(trimmed).normalize();
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(PROPERTY + "=" + redact(value) + " is not a valid URL: " + redact(e.getMessage()));
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(PROPERTY + "=" + redact(value) + ": give an http:// or https:// URL, or "
                    + "hf:owner/repo/file.gguf (optionally with @revision); for a file on disk use kvcache.model.path");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException(PROPERTY + "=" + redact(value) + ": the URL has no host");
        }
        if (fileName(uri).isEmpty()) {
            throw new IllegalArgumentException(PROPERTY + "=" + redact(value) + ": the URL does not end in a file name");
        }
        return new ModelUrl(value, uri);
    }

    private static URI huggingFace(String value, String shorthand, String endpoint) {
        String path = shorthand;
        String revision = "main";
        int at = shorthand.lastIndexOf('@');
        if (at >= 0) {
            path = shorthand.substring(0, at);
            revision = shorthand.substring(at + 1);
        }
        String[] segments = path.split("/", -1);
        boolean wellFormed = segments.length >= 3 && !revision.isBlank();
        for (String segment : segments) {
            wellFormed &= !segment.isBlank() && !segment.equals(".") && !segment.equals("..");
        }
        if (!wellFormed) {
            throw new IllegalArgumentException(PROPERTY + "=" + value + ": the Hugging Face shorthand is "
                    + "hf:owner/repo/file.gguf or hf:owner/repo/file.gguf@revision (a branch, tag or commit)");
        }
        StringBuilder url = new StringBuilder(endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint)
                .append('/').append(encode(segments[0])).append('/').append(encode(segments[1]))
                // Branch names may hold '/', which Hugging Face expects percent-encoded in this position.
                .append("/resolve/").append(encode(revision));
        for (int i = 2; i < segments.length; i++) {
            url.append('/').append(encode(segments[i]));
        }
        try {
            return new URI(url.toString());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("kvcache.model.hf-endpoint=" + redact(endpoint) + " does not make a valid URL: "
                    + e.getMessage());
        }
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String fileName(URI uri) {
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /**
     * Where the download is kept under {@code cacheDir}: the scheme (a file fetched over plain http
     * is not the one https would give), the host (and port), then the URL's path
     * as it is written (percent-encoded, so every segment is a plain file name), so the same URL
     * always finds its earlier download and different URLs never share a file. A query string,
     * which may hold anything, becomes a folder named by its digest.
     */
    Path cachePath(Path cacheDir) {
        String host = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + "_" + uri.getPort();
        Path file = cacheDir.resolve(uri.getScheme().toLowerCase(Locale.ROOT)).resolve(host.replace(':', '_'));
        for (String segment : uri.getRawPath().split("/")) {
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            if (segment.equals("..")) {
                throw new IllegalArgumentException(PROPERTY + "=" + redact(value) + ": the URL's path leaves its root");
            }
            file = file.resolve(segment);
        }
        if (uri.getRawQuery() != null) {
            file = file.resolveSibling("query-" + digest(uri.getRawQuery())).resolve(file.getFileName());
        }
        return file;
    }

    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
