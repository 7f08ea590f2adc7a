package io.kvcache.spring.model;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local HTTP server for download tests that serves one file's bytes at {@code /files/<name>},
 * as a plain web server or a CDN does: honouring {@code Range: bytes=N-} with 206 and
 * {@code Content-Range}, or (when ranges are off) always the whole file with 200. It can cut
 * the first responses off after some bytes, and redirects {@code /<owner>/<repo>/resolve/<rev>/<name>}
 * to {@code /files/<name>} as Hugging Face redirects to its CDN. Every request is recorded. Each
 * version of the file has a strong ETag, and a range request whose {@code If-Range} names another
 * version gets the whole file, as HTTP specifies.
 */
public final class ModelServer implements AutoCloseable {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");
    private static final Pattern RESOLVE = Pattern.compile("/[^/]+/[^/]+/resolve/[^/]+/(.+)");

    /** One request: its path and its Range header (null when none). */
    public record Request(String path, String range) {
    }

    private final HttpServer server;
    private final String name;
    /** One version of the served file: its bytes and its ETag, swapped together. */
    private record Version(byte[] bytes, String etag) {
    }

    private volatile Version current;
    private volatile boolean length = true;
    private final List<String> ifRanges = new CopyOnWriteArrayList<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger cutsLeft = new AtomicInteger();
    private volatile boolean ranges = true;
    private volatile int cutAfter;

    public ModelServer(String name, byte[] file) throws IOException {
        this.name = name;
        this.current = new Version(file, "\"v1\"");
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public String baseUrl() {
        return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort();
    }

    public String fileUrl() {
        return baseUrl() + "/files/" + name;
    }

    public List<Request> requests() {
        return requests;
    }

    /** The If-Range headers received, in order. */
    public List<String> ifRanges() {
        return ifRanges;
    }

    public String etag() {
        return current.etag();
    }

    /** From now on serves {@code bytes}, a new version with a new ETag. */
    public synchronized ModelServer replaceFile(byte[] bytes) {
        current = new Version(bytes, "\"v" + (Integer.parseInt(current.etag().replace("\"", "").substring(1)) + 1) + "\"");
        return this;
    }

    /** Sends bodies without a Content-Length (chunked), so the client cannot tell a complete file from a cut one. */
    public ModelServer withoutLength() {
        length = false;
        return this;
    }

    /** Serves the whole file with 200 whatever the request's range, as servers without range support do. */
    public ModelServer withoutRanges() {
        ranges = false;
        return this;
    }

    /** The next {@code times} responses stop after {@code bytes} bytes of their body and close the connection. */
    public ModelServer cutOff(int times, int bytes) {
        cutsLeft.set(times);
        cutAfter = bytes;
        return this;
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        String range = exchange.getRequestHeaders().getFirst("Range");
        String ifRange = exchange.getRequestHeaders().getFirst("If-Range");
        Version version = current;
        byte[] file = version.bytes();
        requests.add(new Request(path, range));
        if (ifRange != null) {
            ifRanges.add(ifRange);
        }
        Matcher resolve = RESOLVE.matcher(path);
        if (resolve.matches() && resolve.group(1).equals(name)) {
            exchange.getResponseHeaders().add("Location", "/files/" + name);
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
            return;
        }
        if (!path.equals("/files/" + name)) {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
            return;
        }
        int from = 0;
        Matcher m = range == null ? null : RANGE.matcher(range);
        exchange.getResponseHeaders().add("ETag", version.etag());
        if (ranges && m != null && m.matches() && (ifRange == null || ifRange.equals(version.etag()))) {
            from = Integer.parseInt(m.group(1));
            if (from >= file.length) {
                exchange.getResponseHeaders().add("Content-Range", "bytes */" + file.length);
                exchange.sendResponseHeaders(416, -1);
                exchange.close();
                return;
            }
            exchange.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (file.length - 1) + "/" + file.length);
            exchange.sendResponseHeaders(206, file.length - from);
        } else {
            exchange.sendResponseHeaders(200, length ? file.length : 0);
        }
        OutputStream body = exchange.getResponseBody();
        if (cutsLeft.getAndDecrement() > 0) {
            body.write(file, from, Math.min(cutAfter, file.length - from));
            body.flush();
            // Closing the exchange with the body unfinished drops the connection: a broken transfer to the client.
            exchange.close();
            return;
        }
        body.write(file, from, file.length - from);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
