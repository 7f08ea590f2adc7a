package io.kvcache.spring.sessions;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} for the tests of a class ({@code @RegisterExtension static}): started
 * on a free localhost port in a temporary folder, without persistence, before the class's tests and
 * stopped after them; {@link #kill()} takes it down in the middle of a test. Where no redis-server
 * is installed (Debian's {@code redis-server} package; CI installs it), the tests are skipped with
 * a message that says so.
 */
public final class RedisServer implements BeforeAllCallback, AfterAllCallback {
    private static final List<Path> LOCATIONS = List.of(Path.of("/usr/bin/redis-server"), Path.of("/usr/local/bin/redis-server"),
            Path.of("/usr/sbin/redis-server"));

    private Process process;
    private Path folder;
    private int port;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path binary = binary();
        Assumptions.assumeTrue(binary != null,
                "skipped: no redis-server installed (apt-get install redis-server); these tests need a real Redis");
        folder = Files.createTempDirectory("kvcache-redis");
        start(binary);
    }

    private static Path binary() {
        for (Path p : LOCATIONS) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                Path p = Path.of(dir, "redis-server");
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    private void start(Path binary) throws IOException, InterruptedException {
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        process = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", folder.toString(), "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes")
                .directory(folder.toFile()).redirectErrorStream(true).redirectOutput(folder.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!answersPing()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IllegalStateException("redis-server did not start on port " + port + ": "
                        + Files.readString(folder.resolve("redis.log")));
            }
            Thread.sleep(20);
        }
    }

    private boolean answersPing() {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(1000);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] reply = in.readNBytes(7);
            return new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException e) {
            return false;
        }
    }

    public int port() {
        return port;
    }

    /** Kills the server at once, as a crash would. */
    public void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        kill();
        if (folder != null) {
            try (Stream<Path> files = Files.walk(folder)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
