package io.kvcache.spring.autoconfigure;

import io.kvcache.core.SharedData;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.kv.HeadMemory;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.spring.chat.KvcacheEngine;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application as users build it: the starter's dependencies (Spring AI's ChatClient and chat
 * observation auto-configuration), Actuator and a web server, with the real TinyStories-656K model,
 * the mixed-precision policy and a memory budget.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kvcache.policy=mixed-precision",
        "kvcache.memory.budget=64KB",
        "kvcache.chat.temperature=0",
        "kvcache.chat.max-tokens=24",
        "kvcache.threads=2",
        "management.endpoints.web.exposure.include=kvcache,health",
        "management.endpoint.health.show-details=always"})
class KvcacheApplicationTest {
    private static final String STORY = "Once upon a time, there was a little girl named Lily.";

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Application {
    }

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("kvcache.model.path", () -> SharedData.root().resolve("models/tiny/tinystories-656k.gguf").toString());
    }

    @BeforeAll
    static void requireModel() {
        SharedData.require("models/tiny/tinystories-656k.gguf");
    }

    @Autowired
    ChatClient.Builder chatClients;
    @Autowired
    ChatModel chatModel;
    @Autowired
    KvcacheEngine engine;
    @Autowired
    MeterRegistry meters;
    @LocalServerPort
    int port;

    private final JsonMapper json = JsonMapper.builder().build();

    private String expected(String prompt) {
        int[] ids = engine.model().tokenizer().encode(prompt, true, false);
        return new Generator(engine.model(), engine.transformer())
                .generate(engine.newSequence(), ids, SamplingParams.greedy(24), 0, step -> true).text();
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return json.readTree(response.body());
    }

    @Test
    void theChatClientCallsAndStreamsTheModel() {
        ChatClient chat = chatClients.build();
        assertThat(chat.prompt().user(STORY).call().content()).isEqualTo(expected(STORY));
        String other = "One day, Tom found a red ball in the park.";
        List<String> pieces = chat.prompt().user(other).stream().content().collectList().block();
        assertThat(pieces).hasSizeGreaterThan(2);
        assertThat(String.join("", pieces)).isEqualTo(expected(other));
    }

    /** Spring AI's meters count what the responses report; kvcache's own meters are in the same registry. */
    @Test
    void springAiAndKvcacheMetersAreRecorded() {
        double inputBefore = tokens("input");
        double outputBefore = tokens("output");
        ChatResponse response = chatModel.call(new Prompt("The cat sat on the mat and"));
        var usage = response.getMetadata().getUsage();
        assertThat(tokens("input") - inputBefore).isEqualTo((double) usage.getPromptTokens());
        assertThat(tokens("output") - outputBefore).isEqualTo((double) usage.getCompletionTokens());
        assertThat(meters.get("gen_ai.client.operation").tag("gen_ai.system", "kvcache").timer().count()).isPositive();

        assertThat(meters.get("kvcache.time.to.first.token").timer().count()).isPositive();
        assertThat(meters.get("kvcache.decode.speed").summary().count()).isPositive();
        assertThat(meters.get("kvcache.prompt.reused").summary().count()).isPositive();
        long held = engine.memory().values().stream().mapToLong(KvMemoryReport::bytesHeld).sum();
        long saved = engine.memory().values().stream().mapToLong(KvMemoryReport::savedBytes).sum();
        assertThat(meters.get("kvcache.kv.bytes.held").tag("policy", "mixed-precision").gauge().value()).isEqualTo((double) held);
        assertThat(meters.get("kvcache.kv.bytes.saved").tag("policy", "mixed-precision").gauge().value()).isEqualTo((double) saved).isPositive();
        assertThat(meters.get("kvcache.sessions.evictions").gauge().value()).isEqualTo((double) engine.evictions());
    }

    private double tokens(String type) {
        return meters.find("gen_ai.client.token.usage").tag("gen_ai.token.type", type).counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }

    /** The endpoint's JSON, field by field, against the core's reports of every conversation (summed per layer and KV head). */
    @Test
    void theEndpointMatchesTheCoresAccounting() throws Exception {
        String id = chatModel.call(new Prompt("A dog ran to the park to play with a ball.")).getMetadata().getId();
        Map<String, KvMemoryReport> reports = engine.memory();
        JsonNode view = get("/actuator/kvcache");

        assertThat(view.get("conversations").asInt()).isEqualTo(reports.size());
        long full = reports.values().stream().mapToLong(KvMemoryReport::fullBytes).sum();
        long held = reports.values().stream().mapToLong(KvMemoryReport::bytesHeld).sum();
        JsonNode totals = view.get("totals");
        assertThat(totals.get("fullBytes").asLong()).isEqualTo(full);
        assertThat(totals.get("heldBytes").asLong()).isEqualTo(held);
        assertThat(totals.get("savedBytes").asLong()).isEqualTo(full - held);
        assertThat(totals.get("ratio").asDouble()).isEqualTo((double) held / full);

        Map<String, long[]> sums = new TreeMap<>();
        Map<String, HeadMemory> any = new TreeMap<>();
        for (KvMemoryReport report : reports.values()) {
            for (HeadMemory h : report.heads()) {
                long[] s = sums.computeIfAbsent(h.layer() + "/" + h.kvHead(), k -> new long[5]);
                s[0] += h.entries();
                s[1] += h.lowPrecision();
                s[2] += h.merged();
                s[3] += h.bytesHeld();
                s[4] += h.fullBytes();
                any.put(h.layer() + "/" + h.kvHead(), h);
            }
        }
        List<String> seen = new ArrayList<>();
        for (JsonNode head : view.get("heads")) {
            String key = head.get("layer").asInt() + "/" + head.get("kvHead").asInt();
            seen.add(key);
            long[] s = sums.get(key);
            assertThat(head.get("entries").asLong()).as(key).isEqualTo(s[0]);
            assertThat(head.get("lowPrecision").asLong()).as(key).isEqualTo(s[1]);
            assertThat(head.get("merged").asLong()).as(key).isEqualTo(s[2]);
            assertThat(head.get("heldBytes").asLong()).as(key).isEqualTo(s[3]);
            assertThat(head.get("fullBytes").asLong()).as(key).isEqualTo(s[4]);
            assertThat(head.get("policy").asString()).as(key).isEqualTo(any.get(key).policy());
            assertThat(head.get("sharedWith").asInt()).as(key).isEqualTo(any.get(key).sharedWith());
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(sums.keySet()).hasSize(2 * 4);
        assertThat(sums.values().stream().mapToLong(s -> s[1]).sum()).as("mixed precision demoted entries").isPositive();

        JsonNode memory = view.get("memory");
        assertThat(memory.get("contextLength").asInt()).isEqualTo(engine.contextLength());
        assertThat(view.get("model").get("contextLength").asInt()).isEqualTo(engine.contextLength());
        assertThat(memory.get("contextLimitedBy").asString()).isEqualTo("kvcache.memory.budget");
        assertThat(memory.get("budgetBytes").asLong()).isEqualTo(64 * 1024);
        assertThat(memory.get("reservedBytes").asLong()).isZero();
        assertThat(memory.get("headroomBytes").asLong()).isEqualTo(64 * 1024);

        KvMemoryReport one = engine.conversation(id).orElseThrow().memory();
        JsonNode conversation = get("/actuator/kvcache/" + id);
        assertThat(conversation.get("tokens").asInt()).isEqualTo(one.tokens());
        assertThat(conversation.get("totals").get("heldBytes").asLong()).isEqualTo(one.bytesHeld());
        assertThat(conversation.get("totals").get("fullBytes").asLong()).isEqualTo(one.fullBytes());
        int i = 0;
        for (JsonNode head : conversation.get("heads")) {
            HeadMemory h = one.heads().get(i++);
            assertThat(head.get("layer").asInt()).isEqualTo(h.layer());
            assertThat(head.get("kvHead").asInt()).isEqualTo(h.kvHead());
            assertThat(head.get("entries").asInt()).isEqualTo(h.entries());
            assertThat(head.get("lowPrecision").asInt()).isEqualTo(h.lowPrecision());
            assertThat(head.get("heldBytes").asLong()).isEqualTo(h.bytesHeld());
            assertThat(head.get("fullBytes").asLong()).isEqualTo(h.fullBytes());
        }
        assertThat(i).isEqualTo(one.heads().size());
    }

    @Test
    void healthShowsTheModelTheContextAndTheBudgetsHeadroom() throws Exception {
        JsonNode health = get("/actuator/health/kvcache");
        assertThat(health.get("status").asString()).isEqualTo("UP");
        JsonNode details = health.get("details");
        assertThat(details.get("model").asString()).isEqualTo(engine.model().config().name());
        assertThat(details.get("memory").get("contextLength").asInt()).isEqualTo(engine.contextLength());
        assertThat(details.get("memory").get("headroomBytes").asLong()).isEqualTo(64 * 1024 - engine.reservedBytes());
    }
}
