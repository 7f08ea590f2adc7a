package io.kvcache.samples.chatbot;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 50 clients stream conversations at once for {@code chatbot.soak.seconds} (default 15; the long
 * run is {@code -Dchatbot.soak.seconds=90}), each leaving a third of its turns mid-stream. Only the
 * documented refusals may occur; at the end every admission ticket is closed (the reserved bytes of
 * the memory budget, which each ticket holds with its generation slot, are back to 0) and the heap
 * after GC is where it was after a warm-up of the same load.
 *
 * <p>The stores are kept small (100 transcripts, twice the clients, so that no live conversation is
 * forgotten; 4 MB of cached KV caches) so that the warm-up fills them: what the heap may still gain
 * after it would be a leak, not a cache filling up.
 */
@TestPropertySource(properties = {"kvcache.sessions.max-active=4", "kvcache.sessions.max-wait=2s",
        "kvcache.memory.budget=2MB", "kvcache.sessions.max-bytes=4MB", "chatbot.max-conversations=100"})
class SoakTest extends TinyModelApp {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int CLIENTS = 50;
    private static final Duration RUN = Duration.ofSeconds(Long.getLong("chatbot.soak.seconds", 15));
    private static final Duration WARM_UP = Duration.ofSeconds(5);
    /** Heap after GC may end this much above where the warm-up left it. */
    private static final long HEAP_MARGIN_BYTES = 16L << 20;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** What the clients saw, by kind: completed, disconnected, and each refusal. */
    private final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();

    @Test
    void fiftyClientsLeavingAtRandomReturnEverySlotAndByteAndLeaveTheHeapFlat() throws Exception {
        run(WARM_UP);
        outcomes.clear();
        long heapBefore = usedHeapAfterGc();

        run(RUN);
        awaitNothingReserved();
        long heapAfter = usedHeapAfterGc();

        String report = "soak of " + CLIENTS + " clients for " + RUN.toSeconds() + " s: " + new java.util.TreeMap<>(outcomes)
                + ", heap after GC " + (heapBefore >> 10) + " KiB before, " + (heapAfter >> 10) + " KiB after";
        System.out.println(report);
        assertThat(outcomes.keySet()).as(report).allMatch(kind -> kind.equals("completed") || kind.equals("disconnected")
                || kind.startsWith("refused"));
        assertThat(count("completed")).as(report).isPositive();
        assertThat(count("disconnected")).as(report).isPositive();
        assertThat(engine.reservedBytes()).as(report).isZero();
        assertThat(heapAfter).as(report).isLessThanOrEqualTo(heapBefore + HEAP_MARGIN_BYTES);
    }

    private long count(String kind) {
        AtomicLong n = outcomes.get(kind);
        return n == null ? 0 : n.get();
    }

    private void run(Duration duration) throws Exception {
        long deadline = System.nanoTime() + duration.toNanos();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                running.add(clients.submit(() -> client(deadline)));
            }
            for (Future<?> client : running) {
                client.get();
            }
        }
    }

    /** Turns until the deadline, continuing its conversation until the context is full, then a new one. */
    private Void client(long deadline) throws Exception {
        String conversation = null;
        while (System.nanoTime() < deadline) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            // a third of the turns leave after 1 to 20 tokens
            int leaveAfter = random.nextInt(3) == 0 ? 1 + random.nextInt(20) : Integer.MAX_VALUE;
            conversation = turn(conversation, "Tom had a dog named Max " + random.nextInt(1000) + ".", leaveAfter);
        }
        return null;
    }

    /** One streamed turn; the conversation to continue next, or null to start a new one. */
    private String turn(String conversation, String message, int leaveAfterTokens) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        if (conversation != null) {
            body.put("conversation", conversation);
        }
        body.put("message", message);
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(url("/api/chat/stream")))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            String problem = new String(response.body().readAllBytes());
            // 409: the last turn's end is still being recorded; 503: no slot; 404: the transcript
            // store (Caffeine, by size) forgot the conversation, and the client starts a new one
            boolean documented = response.statusCode() == 409 || response.statusCode() == 503
                    || response.statusCode() == 404 && problem.contains("has been forgotten");
            record("status " + response.statusCode() + (documented ? "" : ": " + problem), documented);
            return response.statusCode() == 409 ? conversation : null;
        }
        try (ServerSentEvents stream = new ServerSentEvents(response.body())) {
            String id = stream.next().data().get("conversation").asString();
            int tokens = 0;
            for (ServerSentEvents.Event event = stream.next(); event != null; event = stream.next()) {
                switch (event.name()) {
                    case "token" -> {
                        if (++tokens >= leaveAfterTokens) {
                            record("disconnected", false);
                            return null; // closing the stream closes the connection mid-reply
                        }
                    }
                    case "done" -> {
                        record("completed", false);
                        return id;
                    }
                    case "error" -> {
                        String why = event.data().get("message").asString();
                        boolean documented = why.contains("kvcache.sessions.max-active") || why.contains(MEMORY_BUDGET)
                                || why.contains("a conversation may reach");
                        record("error: " + why, documented);
                        return null;
                    }
                    default -> throw new AssertionError("unexpected event " + event);
                }
            }
            record("stream ended without done or error", false);
            return null;
        }
    }

    private static final String MEMORY_BUDGET = "kvcache.memory.budget";

    /** Counts an outcome; refusals the README documents are filed as "refused ..." with their reason's gist. */
    private void record(String outcome, boolean documentedRefusal) {
        String kind = !documentedRefusal ? outcome
                : outcome.startsWith("status ") ? "refused " + outcome
                : outcome.contains("kvcache.sessions.max-active") ? "refused: no free slot"
                : outcome.contains(MEMORY_BUDGET) ? "refused: memory budget"
                : "refused: context full";
        outcomes.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    /** Abandoned turns end when the server next writes to the closed connection: wait for that. */
    private void awaitNothingReserved() throws InterruptedException {
        for (long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
             engine.reservedBytes() != 0 && System.nanoTime() < deadline; ) {
            Thread.sleep(50);
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
