package io.kvcache.samples.chatbot;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Follow-up turns on a model with a chat template (the random-weight qwen2-tiny, whose replies are
 * gibberish but whose template renders each turn the same way every time): the server sends the
 * whole history, and the chat model continues the KV cache of the earlier turns instead of
 * evaluating it again.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"kvcache.chat.max-tokens=24", "kvcache.chat.seed=7"})
class TemplatedConversationTest extends SharedModelApp {
    private static final Path MODEL = SharedModels.path("models/synthetic/qwen2-tiny-Q8_0.gguf");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Autowired
    MeterRegistry meters;

    @BeforeAll
    static void requireModel() {
        SharedModels.require(MODEL);
    }

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        serve(registry, MODEL);
    }

    @Test
    void aFollowUpTurnContinuesTheCacheOfTheEarlierTurns() throws Exception {
        JsonNode first = chat("{\"message\": \"Hello, who are you?\"}");
        double reusedBefore = reused().totalAmount();
        JsonNode second = chat("{\"conversation\": \"" + first.get("conversation").asString()
                + "\", \"message\": \"Tell me more.\"}");

        assertThat(second.get("kvcacheConversation").asString()).isEqualTo(first.get("kvcacheConversation").asString());
        assertThat(reused().totalAmount() - reusedBefore).as("prompt tokens taken from the first turn's cache")
                .isGreaterThanOrEqualTo(first.get("usage").get("promptTokens").asInt());
        HttpResponse<String> view = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                + "/actuator/kvcache/" + second.get("kvcacheConversation").asString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(JSON.readTree(view.body()).get("tokens").asInt())
                .isGreaterThanOrEqualTo(second.get("usage").get("promptTokens").asInt());
    }

    private DistributionSummary reused() {
        return meters.get("kvcache.prompt.reused").summary();
    }

    private JsonNode chat(String body) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/api/chat"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
