package io.kvcache.samples.chatbot;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that sends a whole-reply {@code POST /api/chat} and leaves while its turn is generated.
 * The model is a random-weight Llama-3-shaped file that never ends a reply early, and a turn may
 * run 2,000 tokens, so the turn is still generating when the client leaves, whatever the machine's
 * speed. Generated to the end for no one, the turn would be stored as a conversation; stopped, its
 * half-written cache is dropped.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"kvcache.chat.max-tokens=2000", "kvcache.memory.budget=64MB"})
class AbandonedTurnTest extends SharedModelApp {
    static final Path MODEL = SharedModels.path("models/synthetic/llama3-tiny-Q4_K_M.gguf");

    @BeforeAll
    static void requireModel() {
        SharedModels.require(MODEL);
    }

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        serve(registry, MODEL);
    }

    @Test
    void aClientLeavingBeforeItsWholeReplyStopsTheTurn() throws Exception {
        byte[] body = "{\"message\": \"Once upon a time\"}".getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("localhost", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            // An admitted turn holds a reservation of the memory budget (set here) until it ends.
            await(() -> engine.reservedBytes() > 0, "the turn to be admitted");
        }

        await(() -> engine.reservedBytes() == 0, "the turn to end");
        assertThat(engine.memory()).as("a stopped turn's cache is dropped, not stored as a conversation").isEmpty();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        for (long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos(); !condition.getAsBoolean(); ) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(1);
        }
    }
}
