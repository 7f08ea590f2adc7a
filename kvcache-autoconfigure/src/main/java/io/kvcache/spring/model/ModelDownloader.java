package io.kvcache.spring.model;

import io.kvcache.spring.ByteSizes;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads a model once into the cache directory. Bytes go to {@code <file>.part}; a transfer
 * that breaks off is resumed with a {@code Range} request (within this start, up to
 * {@link #ATTEMPTS} times, and at the next start from what the part file holds). A server that
 * ignores the range and sends the whole file again is read from the first byte. Redirects are
 * followed (Hugging Face sends downloads to its CDN). When a SHA-256 is configured, the finished
 * file must have it; only then is it moved into place, atomically, so the cache never holds half a
 * model under the model's name. Progress is logged every tenth of the file.
 *
 * <p>The server is not trusted further than it must be: a download must say how long it is; a
 * resume asks with {@code If-Range} and the ETag of the first answer, so a file that changed on the
 * server is fetched whole instead of spliced; a plain-http download without a SHA-256 is warned
 * about; the {@code .part} file is never followed if it is a symbolic link; directories it creates
 * are its owner's only; two starts sharing a cache download a file once, holding {@code <file>.lock}; credentials in the URL never reach a log line or a message.
 */
public final class ModelDownloader implements AutoCloseable {
    private static final Log log = LogFactory.getLog(ModelDownloader.class);
    static final int ATTEMPTS = 3;
    private static final Duration PAUSE_BEFORE_RETRY = Duration.ofSeconds(1);
    /** How long a server may take to start answering a request (the body may then take as long as it needs). */
    private static final Duration ANSWER_TIMEOUT = Duration.ofMinutes(1);
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (?:(\\d+)-\\d+|\\*)/(\\d+|\\*)");

    /** The files being fetched in this process (a file lock is held per process, not per thread). */
    private static final Map<Path, Object> IN_PROCESS = new ConcurrentHashMap<>();

    private final HttpClient client;

    ModelDownloader(HttpClient client) {
        this.client = client;
    }

    public static ModelDownloader withDefaultClient() {
        return new ModelDownloader(HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30))
                .version(HttpClient.Version.HTTP_1_1)
                .build());
    }

    /**
     * The model file for {@code url} under {@code cacheDir}, downloaded unless an earlier start
     * already did.
     *
     * @param sha256 the expected digest (64 lower-case hex digits), or null to take the file as it comes
     */
    Path fetch(ModelUrl url, Path cacheDir, String sha256) {
        Path target = url.cachePath(cacheDir);
        // One download per file: other threads of this process wait on the monitor, other processes
        // on the lock file; whoever comes second finds the file in place.
        synchronized (IN_PROCESS.computeIfAbsent(target.toAbsolutePath().normalize(), t -> new Object())) {
            try {
                createOwnerOnly(target.getParent());
                try (FileChannel lockFile = FileChannel.open(target.resolveSibling(target.getFileName() + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
                     FileLock lock = lockFile.lock()) {
                    return fetchLocked(url, target, sha256);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(ModelUrl.PROPERTY + "=" + url.redactedValue() + ": cannot lock the download in "
                        + target.getParent() + " (kvcache.model.cache-dir): " + e.getMessage(), e);
            }
        }
    }

    private Path fetchLocked(ModelUrl url, Path target, String sha256) {
        if (sha256 == null && url.uri().getScheme().equalsIgnoreCase("http")) {
            log.warn(ModelUrl.PROPERTY + ": " + url.redacted() + " is plain http and no " + Sha256.PROPERTY
                    + " is set: anyone on the network path can replace the model; use https or set its SHA-256");
        }
        if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            if (sha256 != null) {
                verifyCached(url, target, sha256);
            }
            log.info(ModelUrl.PROPERTY + ": using " + target + ", downloaded earlier from " + url.redacted());
            return target;
        }
        Path part = target.resolveSibling(target.getFileName() + ".part");
        try {
            long start = System.nanoTime();
            log.info(ModelUrl.PROPERTY + ": downloading " + url.redacted() + " to " + target);
            download(url, part);
            if (sha256 != null) {
                String actual = Sha256.of(part);
                if (!actual.equals(sha256)) {
                    Files.delete(part);
                    throw new IllegalStateException(Sha256.PROPERTY + ": the file downloaded from " + url.redacted()
                            + " has SHA-256 " + actual + " but " + sha256 + " was expected; the download was removed. "
                            + "Check " + Sha256.PROPERTY + " and " + ModelUrl.PROPERTY
                            + " (a branch such as main can move to a newer file; pin a commit with @revision)");
                }
            }
            moveIntoPlace(part, target);
            Files.deleteIfExists(etagFile(part));
            if (sha256 != null) {
                writeDigest(target, sha256);
            }
            log.info(ModelUrl.PROPERTY + ": downloaded " + ByteSizes.format(Files.size(target)) + " in "
                    + Duration.ofNanos(System.nanoTime() - start).toSeconds() + " s");
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(ModelUrl.PROPERTY + "=" + url.redactedValue() + ": cannot write the download to "
                    + target.getParent() + " (kvcache.model.cache-dir): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ModelUrl.PROPERTY + ": interrupted while downloading " + url.redacted(), e);
        }
    }

    /**
     * Checks a file an earlier start downloaded. The digest it was verified with is kept beside it
     * with the file's size, so a large file is hashed again only when the expected digest changed or
     * the file's size no longer is the one verified (a file cut short or replaced). A mismatch deletes
     * nothing: the file may be one the user put there.
     */
    private static void verifyCached(ModelUrl url, Path target, String sha256) {
        Path digestFile = digestFile(target);
        try {
            if (Files.isRegularFile(digestFile)
                    && Files.readString(digestFile).strip().equals(sha256 + " " + Files.size(target))) {
                return;
            }
            String actual = Sha256.of(target);
            if (!actual.equals(sha256)) {
                throw new IllegalStateException(Sha256.PROPERTY + ": " + target + " (downloaded earlier from " + url.redacted()
                        + ") has SHA-256 " + actual + " but " + sha256 + " was expected. Check " + Sha256.PROPERTY
                        + ", or delete that file to download it again");
            }
            writeDigest(target, sha256);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + digestFile, e);
        }
    }

    /** The sidecar: the digest the file was verified with and the size it had then. */
    private static void writeDigest(Path target, String sha256) throws IOException {
        Files.writeString(digestFile(target), sha256 + " " + Files.size(target));
    }

    private static Path digestFile(Path target) {
        return target.resolveSibling(target.getFileName() + ".sha256");
    }

    /** The ETag of the answer the part file's bytes came from, for If-Range when resuming. */
    private static Path etagFile(Path part) {
        return part.resolveSibling(part.getFileName() + ".etag");
    }

    /** Creates the missing directories readable by their owner only, where the file system has POSIX permissions. */
    private static void createOwnerOnly(Path dir) throws IOException {
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
            Files.createDirectories(dir);
        }
    }

    private static void moveIntoPlace(Path part, Path target) throws IOException {
        try {
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Fills {@code part} with the whole file, resuming from what it holds. */
    private void download(ModelUrl url, Path part) throws IOException, InterruptedException {
        if (Files.isSymbolicLink(part)) {
            // Written through, a link would let whoever placed it choose which file the download overwrites.
            log.warn(ModelUrl.PROPERTY + ": " + part + " is a symbolic link; it is removed and the download starts anew");
            Files.delete(part);
            Files.deleteIfExists(etagFile(part));
        }
        for (int attempt = 1; ; attempt++) {
            long have = Files.exists(part, LinkOption.NOFOLLOW_LINKS) ? Files.size(part) : 0;
            IOException failure = null;
            try {
                if (transfer(url, part, have)) {
                    return;
                }
            } catch (IOException e) {
                failure = e;
            }
            long now = Files.exists(part) ? Files.size(part) : 0;
            String why = failure != null ? failure.getMessage() : "the server's answer did not continue the bytes received";
            if (attempt == ATTEMPTS) {
                throw new IllegalStateException(ModelUrl.PROPERTY + "=" + url.redactedValue() + ": the download from " + url.redacted()
                        + " failed " + ATTEMPTS + " times (" + why + "); " + part + " keeps the " + ByteSizes.format(now)
                        + " received, and the next start resumes from there", failure);
            }
            log.warn(ModelUrl.PROPERTY + ": the download stopped after " + ByteSizes.format(now) + " (" + why + "); resuming");
            Thread.sleep(PAUSE_BEFORE_RETRY);
        }
    }

    /**
     * One request for the bytes from {@code have} on.
     *
     * @return whether {@code part} now holds the whole file (false: ask again from its new size)
     * @throws IOException when the connection fails or ends before the file does
     */
    private boolean transfer(ModelUrl url, Path part, long have) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url.uri()).GET().timeout(ANSWER_TIMEOUT)
                .header("User-Agent", "kvcache");
        Path etagFile = etagFile(part);
        if (have > 0) {
            request.header("Range", "bytes=" + have + "-");
            if (Files.isRegularFile(etagFile, LinkOption.NOFOLLOW_LINKS)) {
                // The rest of the same file, or (the file changed) the whole new one with 200.
                request.header("If-Range", Files.readString(etagFile).strip());
            }
        }
        HttpResponse<InputStream> response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            int status = response.statusCode();
            String contentRange = response.headers().firstValue("Content-Range").orElse("");
            if (status == 200 || status == 206) {
                // Only a strong ETag names the exact bytes; a weak one (W/) may not be used in If-Range.
                String etag = response.headers().firstValue("ETag").filter(e -> e.startsWith("\"")).orElse(null);
                if (etag != null) {
                    Files.writeString(etagFile, etag);
                } else if (status == 200) {
                    Files.deleteIfExists(etagFile);
                }
            }
            switch (status) {
                case 206 -> {
                    Matcher range = CONTENT_RANGE.matcher(contentRange);
                    if (!range.matches() || range.group(1) == null || Long.parseLong(range.group(1)) != have) {
                        log.info(ModelUrl.PROPERTY + ": " + url.redacted() + " answered a different range (" + contentRange
                                + "); starting again from the first byte");
                        Files.deleteIfExists(part);
                        return false;
                    }
                    if (range.group(2).equals("*")) {
                        throw unknownLength(url);
                    }
                    return copy(body, part, have, Long.parseLong(range.group(2)));
                }
                case 200 -> {
                    if (have > 0) {
                        log.info(ModelUrl.PROPERTY + ": " + url.redacted() + " does not resume downloads; starting again "
                                + "from the first byte");
                    }
                    OptionalLong length = response.headers().firstValueAsLong("Content-Length");
                    if (length.isEmpty()) {
                        throw unknownLength(url);
                    }
                    return copy(body, part, 0, length.getAsLong());
                }
                case 416 -> {
                    // Nothing left past what the part file holds: it is complete, or longer than the file now is.
                    Matcher range = CONTENT_RANGE.matcher(contentRange);
                    if (range.matches() && !range.group(2).equals("*") && Long.parseLong(range.group(2)) == have) {
                        return true;
                    }
                    log.info(ModelUrl.PROPERTY + ": " + part + " does not match the file on the server any more; "
                            + "starting again from the first byte");
                    Files.deleteIfExists(part);
                    return false;
                }
                case 404, 410 -> throw new ModelNotFoundException(ModelUrl.PROPERTY + "=" + url.redactedValue()
                        + ": " + url.redacted() + " answered " + status + " (no such file). Check the URL; for hf: the owner, "
                        + "repository, file name and revision as the repository's \"Files\" page shows them");
                case 401, 403 -> throw new IllegalStateException(ModelUrl.PROPERTY + "=" + url.redactedValue() + ": " + url.redacted()
                        + " answered " + status + " (access refused). kvcache downloads public files only; download a "
                        + "gated model yourself and set kvcache.model.path to it");
                default -> throw new IllegalStateException(ModelUrl.PROPERTY + "=" + url.redactedValue() + ": " + url.redacted()
                        + " answered HTTP " + status);
            }
        }
    }

    /** A download whose end cannot be told from a connection that broke off is refused. */
    private static IllegalStateException unknownLength(ModelUrl url) {
        return new IllegalStateException(ModelUrl.PROPERTY + "=" + url.redactedValue() + ": " + url.redacted()
                + " does not say how long the file is (no Content-Length); kvcache downloads only files of known length");
    }

    /**
     * Writes {@code body} into {@code part} from byte {@code from} (dropping what follows it).
     *
     * @param total the whole file's length
     * @return true once the file is complete
     * @throws IOException when the body ends before {@code total} bytes
     */
    private static boolean copy(InputStream body, Path part, long from, long total) throws IOException {
        Progress progress = new Progress(part, total);
        long size = from;
        try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            out.truncate(from);
            out.position(from);
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = body.read(buffer)) > 0; ) {
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
                size += n;
                progress.reached(size);
            }
            out.force(false);
        }
        if (size != total) {
            throw new IOException("received " + size + " of " + total + " bytes");
        }
        return true;
    }

    /** Stops the HTTP client's threads. */
    @Override
    public void close() {
        client.close();
    }

    /** Logs how far a download got, once per tenth of the file. */
    private static final class Progress {
        private final Path part;
        private final long total;
        private long next;

        Progress(Path part, long total) {
            this.part = part;
            this.total = total;
            this.next = total / 10;
        }

        void reached(long size) {
            if (size < next || next <= 0) {
                return;
            }
            log.info(ModelUrl.PROPERTY + ": " + part.getFileName() + " " + (size * 100 / total) + "% ("
                    + ByteSizes.format(size) + " of " + ByteSizes.format(total) + ")");
            next = (size * 10 / total + 1) * total / 10;
        }
    }
}
