package io.kvcache.spring.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** SHA-256 digests of model files, as the 64 lower-case hex digits Hugging Face and {@code sha256sum} print. */
public final class Sha256 {
    static final String PROPERTY = "kvcache.model.sha256";

    private Sha256() {
    }

    /** The expected digest from {@code kvcache.model.sha256}, lower-cased; fails naming the property when malformed. */
    static String expected(String value) {
        String digest = value.strip().toLowerCase(Locale.ROOT);
        if (!digest.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException(PROPERTY + "=" + value + " is not a SHA-256 digest: give its 64 hex digits "
                    + "(sha256sum prints them; Hugging Face shows them on the file's page)");
        }
        return digest;
    }

    public static String of(Path file) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " to check its SHA-256", e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
