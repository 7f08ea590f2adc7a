package io.kvcache.samples.chatbot;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** Who may read what under {@code /actuator}, and that the page and the JSON API need no login. */
class ActuatorSecurityTest extends TinyModelApp {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void healthIsOpen() throws Exception {
        HttpResponse<String> health = get("/actuator/health", null);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(health.body()).get("status").asString()).isEqualTo("UP");
    }

    @Test
    void operatorEndpointsNeedTheOperatorsLogin() throws Exception {
        for (String path : new String[] {"/actuator", "/actuator/kvcache"}) {
            HttpResponse<String> anonymous = get(path, null);
            assertThat(anonymous.statusCode()).as(path).isEqualTo(401);
            assertThat(anonymous.headers().firstValue("WWW-Authenticate")).as(path)
                    .hasValueSatisfying(value -> assertThat(value).startsWith("Basic"));
            assertThat(get(path, basic(OPERATOR, "wrong")).statusCode()).as(path).isEqualTo(401);
            assertThat(get(path, basic(OPERATOR, PASSWORD)).statusCode()).as(path).isEqualTo(200);
        }
        JsonNode summary = JSON.readTree(get("/actuator/kvcache", basic(OPERATOR, PASSWORD)).body());
        assertThat(summary.get("model").get("layers").asInt()).isEqualTo(engine.model().config().layers());
    }

    @Test
    void thePageReadsItsConversationsViewAndTheModelLineWithoutALoginOrACookie() throws Exception {
        HttpResponse<String> turn = http.send(HttpRequest.newBuilder(URI.create(url("/api/chat")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"message\": \"Sam had a blue kite.\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(turn.statusCode()).as(turn.body()).isEqualTo(200);
        assertThat(turn.headers().allValues("Set-Cookie")).as("stateless: no session cookie").isEmpty();
        String conversation = JSON.readTree(turn.body()).get("kvcacheConversation").asString();

        HttpResponse<String> view = get("/actuator/kvcache/" + conversation, null);
        assertThat(view.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(view.body()).get("heads").size()).isEqualTo(layersTimesKvHeads());

        HttpResponse<String> model = get("/api/model", null);
        assertThat(model.statusCode()).isEqualTo(200);
        JsonNode line = JSON.readTree(model.body());
        assertThat(line.get("model").get("kvHeads").asInt()).isEqualTo(engine.model().config().kvHeads());
        assertThat(line.has("conversations")).as("counts across users stay behind the login").isFalse();
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url(path))).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
