package io.kvcache.samples.chatbot;

import io.kvcache.spring.chat.PromptRenderer;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The REST and SSE endpoints over HTTP, on the tiny model. */
class ChatEndpointsTest extends TinyModelApp {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Autowired
    PromptRenderer renderer;

    @Test
    void aRestTurnRepliesWithTextUsageAndTheIdsOfItsConversation() throws Exception {
        String message = "Once upon a time, there was a little cat named Tom.";
        JsonNode reply = chat(null, message);

        assertThat(reply.get("reply").asString()).isNotBlank();
        assertThat(reply.get("conversation").asString()).isNotBlank();
        assertThat(reply.get("finishReason").asString()).isIn("STOP", "LENGTH");
        assertThat(reply.get("usage").get("promptTokens").asInt()).isEqualTo(promptTokens(new UserMessage(message)));
        assertThat(reply.get("usage").get("completionTokens").asInt()).isBetween(1, 200);

        HttpResponse<String> kv = get("/actuator/kvcache/" + reply.get("kvcacheConversation").asString());
        assertThat(kv.statusCode()).isEqualTo(200);
        JsonNode view = JSON.readTree(kv.body());
        assertThat(view.get("tokens").asInt()).isGreaterThanOrEqualTo(reply.get("usage").get("promptTokens").asInt());
        assertThat(view.get("heads").size()).isEqualTo(layersTimesKvHeads());
        assertThat(view.get("totals").get("heldBytes").asLong()).isPositive();
    }

    /**
     * The second turn's text is the first message, the reply right after it and the new message on
     * a new line, so its ids are the first prompt's, the reply's as sampled (without the
     * end-of-generation token) and the new line's; the first turn's cache is continued.
     */
    @Test
    void aFollowUpTurnSendsTheWholeHistoryAndContinuesTheFirstTurnsCache() throws Exception {
        String first = "Lily had a red ball.";
        JsonNode one = chat(null, first);
        String second = "She gave it to her friend.";
        JsonNode two = chat(one.get("conversation").asString(), second);

        assertThat(two.get("conversation").asString()).isEqualTo(one.get("conversation").asString());
        assertThat(two.get("kvcacheConversation").asString()).isEqualTo(one.get("kvcacheConversation").asString())
                .isEqualTo(one.get("conversation").asString());
        boolean endedOnEndOfGeneration = one.get("finishReason").asString().equals("STOP");
        int replyIds = one.get("usage").get("completionTokens").asInt() - (endedOnEndOfGeneration ? 1 : 0);
        int newIds = engine.model().tokenizer().encodeContinuation("\n" + second, false).length;
        assertThat(two.get("usage").get("promptTokens").asInt())
                .isEqualTo(one.get("usage").get("promptTokens").asInt() + replyIds + newIds);
    }

    @Test
    void badRequestsGetAStatusAndADetailThatSaysWhy() throws Exception {
        for (String path : List.of("/api/chat", "/api/chat/stream")) {
            HttpResponse<String> empty = post(path, "{\"message\": \"  \"}");
            assertThat(empty.statusCode()).isEqualTo(400);
            assertThat(empty.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(JSON.readTree(empty.body()).get("detail").asString()).contains("\"message\" must not be empty");

            HttpResponse<String> missing = post(path, "{}");
            assertThat(missing.statusCode()).isEqualTo(400);

            HttpResponse<String> tooLong = post(path, body(null, "a".repeat(4001)));
            assertThat(tooLong.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(tooLong.body()).get("detail").asString()).contains("chatbot.max-message-chars");

            HttpResponse<String> unknown = post(path, body("no-such-conversation", "Hello"));
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(JSON.readTree(unknown.body()).get("detail").asString()).contains("no-such-conversation");
        }
    }

    @Test
    void aConversationPastTheContextIsRefusedWithTheLimitNamed() throws Exception {
        String tooLong = "the dog ran and ".repeat(200);
        assertThat(renderer.tokens(List.of(new UserMessage(tooLong))).length).isGreaterThan(engine.contextLength());

        String limit = "may reach " + engine.contextLength() + " (set by " + engine.contextLimit() + ")";
        HttpResponse<String> whole = post("/api/chat", body(null, tooLong));
        assertThat(whole.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(whole.body()).get("detail").asString()).contains(limit);

        HttpResponse<InputStream> streamed = http.send(streamRequest(null, tooLong), HttpResponse.BodyHandlers.ofInputStream());
        try (ServerSentEvents stream = new ServerSentEvents(streamed.body())) {
            List<ServerSentEvents.Event> events = stream.rest();
            assertThat(events).extracting(ServerSentEvents.Event::name).containsExactly("start", "error");
            assertThat(events.getLast().data().get("message").asString()).contains(limit);
        }
    }

    @Test
    void aStreamedTurnSendsSeveralTokenEventsThenTheWholeReply() throws Exception {
        HttpResponse<InputStream> response = http.send(streamRequest(null, "Tom went to the park."),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/event-stream"));
        List<ServerSentEvents.Event> events;
        try (ServerSentEvents stream = new ServerSentEvents(response.body())) {
            events = stream.rest();
        }

        assertThat(events.getFirst().name()).isEqualTo("start");
        List<ServerSentEvents.Event> tokens = events.stream().filter(e -> e.name().equals("token")).toList();
        assertThat(tokens).hasSizeGreaterThan(1);
        ServerSentEvents.Event done = events.getLast();
        assertThat(done.name()).isEqualTo("done");
        assertThat(done.data().get("conversation").asString())
                .isEqualTo(events.getFirst().data().get("conversation").asString());
        String streamed = String.join("", tokens.stream().map(e -> e.data().get("text").asString()).toList());
        assertThat(done.data().get("reply").asString()).isEqualTo(streamed).isNotBlank();
        assertThat(done.data().get("usage").get("completionTokens").asInt()).isGreaterThanOrEqualTo(tokens.size());
        assertThat(get("/actuator/kvcache/" + done.data().get("kvcacheConversation").asString()).statusCode())
                .isEqualTo(200);
    }

    @Test
    void aClientLeavingMidStreamLeavesTheAppServingAndTheTurnUnrecorded() throws Exception {
        // A first turn: TinyStories tells a long story, so the client leaves well before it ends.
        HttpResponse<InputStream> response = http.send(streamRequest(null, "Ben found a shiny stone."),
                HttpResponse.BodyHandlers.ofInputStream());
        String conversation;
        try (ServerSentEvents stream = new ServerSentEvents(response.body())) {
            ServerSentEvents.Event start = stream.next();
            assertThat(start.name()).isEqualTo("start");
            conversation = start.data().get("conversation").asString();
            assertThat(stream.next().name()).isEqualTo("token");
        }

        // The abandoned turn ends once the server notices; until then the conversation answers 409.
        String next = "They went home.";
        HttpResponse<String> answer = post("/api/chat", body(conversation, next));
        for (long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
             answer.statusCode() == 409 && System.nanoTime() < deadline; ) {
            Thread.sleep(50);
            answer = post("/api/chat", body(conversation, next));
        }
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).get("usage").get("promptTokens").asInt())
                .as("the abandoned turn is not part of the history").isEqualTo(promptTokens(new UserMessage(next)));
        assertThat(chat(null, "A new story.").get("reply").asString()).isNotBlank();
        assertThat(get("/actuator/health").statusCode()).isEqualTo(200);
    }

    private int promptTokens(Message... history) {
        return renderer.tokens(List.of(history)).length;
    }

    private JsonNode chat(String conversation, String message) throws Exception {
        HttpResponse<String> response = post("/api/chat", body(conversation, message));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private static String body(String conversation, String message) {
        ObjectNode body = JSON.createObjectNode();
        if (conversation != null) {
            body.put("conversation", conversation);
        }
        body.put("message", message);
        return body.toString();
    }

    private HttpRequest streamRequest(String conversation, String message) {
        return HttpRequest.newBuilder(URI.create(url("/api/chat/stream")))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body(conversation, message))).build();
    }

    private HttpResponse<String> post(String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
