package io.kvcache.core.kv.snapshot;

import io.kvcache.core.model.Model;
import io.kvcache.core.model.ModelConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The model a cache snapshot was computed with: its shape and a fingerprint of its files. A cache
 * only continues on the model that computed it; any other, however alike, gives other keys and
 * values, so a snapshot of another model is refused rather than continued.
 *
 * <p>The fingerprint is SHA-256 over the model's configuration and, for each of its files (the GGUF
 * file, or the files of a Hugging Face folder, by name), its name, its size, its first and last
 * {@value #EDGE_BYTES} bytes and {@value #SAMPLES} blocks of {@value #SAMPLE_BYTES} bytes spread
 * evenly between: reading a few MiB rather than gigabytes at start-up, it still tells apart any two
 * files that differ in size, header, vocabulary or quantization, and weights changed anywhere
 * (a fine-tune) in all but the unluckiest case.
 *
 * @param fingerprint 32 bytes of SHA-256
 * @param config      the model's shape
 */
public record ModelIdentity(byte[] fingerprint, ModelConfig config) {
    static final int FINGERPRINT_BYTES = 32;
    private static final int EDGE_BYTES = 1 << 20;
    private static final int SAMPLES = 256;
    private static final int SAMPLE_BYTES = 4096;

    public ModelIdentity {
        if (fingerprint.length != FINGERPRINT_BYTES) {
            throw new IllegalArgumentException("a model fingerprint is " + FINGERPRINT_BYTES + " bytes, not " + fingerprint.length);
        }
        fingerprint = fingerprint.clone();
    }

    @Override
    public byte[] fingerprint() {
        return fingerprint.clone();
    }

    /** The identity of a loaded model, from its files. */
    public static ModelIdentity of(Model model) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(model.config().toString().getBytes(StandardCharsets.UTF_8));
            for (Path file : files(model.source())) {
                digest(file, sha);
            }
            return new ModelIdentity(sha.digest(), model.config());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + model.source() + " to fingerprint it", e);
        }
    }

    private static List<Path> files(Path source) throws IOException {
        if (!Files.isDirectory(source)) {
            return List.of(source);
        }
        try (Stream<Path> listed = Files.list(source)) {
            return listed.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static void digest(Path file, MessageDigest sha) throws IOException {
        try (FileChannel channel = FileChannel.open(file)) {
            long size = channel.size();
            sha.update((file.getFileName() + "\0" + size + "\0").getBytes(StandardCharsets.UTF_8));
            update(sha, channel, 0, Math.min(size, EDGE_BYTES));
            if (size > 2L * EDGE_BYTES) {
                long between = size - 2L * EDGE_BYTES;
                for (int s = 0; s < SAMPLES; s++) {
                    update(sha, channel, EDGE_BYTES + between * s / SAMPLES, Math.min(SAMPLE_BYTES, between));
                }
            }
            if (size > EDGE_BYTES) {
                long from = Math.max(EDGE_BYTES, size - EDGE_BYTES);
                update(sha, channel, from, size - from);
            }
        }
    }

    private static void update(MessageDigest sha, FileChannel channel, long position, long length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("the file ended while it was read");
            }
        }
        sha.update(buffer.flip());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelIdentity other && java.util.Arrays.equals(fingerprint, other.fingerprint)
                && config.equals(other.config);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(fingerprint) * 31 + config.hashCode();
    }

    /** The fingerprint as hex, for messages and logs. */
    public String hex() {
        return HexFormat.of().formatHex(fingerprint);
    }
}
