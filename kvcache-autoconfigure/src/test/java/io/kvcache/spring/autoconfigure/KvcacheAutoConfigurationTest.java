package io.kvcache.spring.autoconfigure;

import io.kvcache.core.SharedData;
import io.kvcache.core.kv.Guardrail;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.KvPolicy;
import io.kvcache.core.kv.KvScale;
import io.kvcache.core.kv.KvType;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.WindowPolicy;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import io.kvcache.spring.actuate.KvcacheEndpoint;
import io.kvcache.spring.actuate.KvcacheHealthIndicator;
import io.kvcache.spring.chat.KvcacheChatOptions;
import io.kvcache.spring.chat.KvcacheEngine;
import io.kvcache.spring.model.ModelServer;
import io.kvcache.spring.model.Sha256;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class KvcacheAutoConfigurationTest {
    /** An application that exposes the kvcache endpoint (over JMX here: the runner has no web server). */
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(KvcacheAutoConfiguration.class, KvcacheActuatorAutoConfiguration.class))
            .withPropertyValues("spring.jmx.enabled=true", "management.endpoints.jmx.exposure.include=kvcache",
                    "kvcache.chat.max-tokens=32");

    private static String tinyModel() {
        return SharedData.require("models/tiny/tinystories-656k.gguf").toString();
    }

    @Test
    void loadsTheModelWithTheConfiguredPolicy() {
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.policy=window", "kvcache.window.recent=32",
                        "kvcache.kv-type=q4", "kvcache.kv-residual=8", "kvcache.kv-scale=e5m3",
                        "kvcache.threads=2", "kvcache.model.context-length=256")
                .run(context -> {
                    KvcacheEngine engine = context.getBean(KvcacheEngine.class);
                    assertThat(engine.policy().policy()).isEqualTo(new WindowPolicy(KvPolicy.DEFAULT_SINKS, 32));
                    assertThat(engine.policy().kvType()).isEqualTo(KvType.Q4);
                    assertThat(engine.policy().kvResidual()).isEqualTo(8);
                    assertThat(engine.policy().kvScale()).isEqualTo(KvScale.E5M3);
                    assertThat(engine.contextLength()).isEqualTo(256);
                    assertThat(engine.backend().details()).containsEntry("threads", 2);
                    assertThat(context).hasSingleBean(KvcacheEndpoint.class).hasSingleBean(KvcacheHealthIndicator.class);
                });
    }

    @Test
    @ExtendWith(OutputCaptureExtension.class)
    void warmsUpAtStartupWithoutAConversationOrReservedMemory(CapturedOutput output) {
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.threads=2",
                        "kvcache.model.context-length=256", "kvcache.memory.budget=1MB")
                .run(context -> {
                    KvcacheEngine engine = context.getBean(KvcacheEngine.class);
                    assertThat(output).containsPattern("kvcache warm-up: \\d+ ms");
                    assertThat(engine.memory()).isEmpty();
                    assertThat(engine.reservedBytes()).isZero();
                });
        int before = output.getAll().split("kvcache warm-up:", -1).length;
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.warm-up=false")
                .run(context -> assertThat(context).hasSingleBean(KvcacheEngine.class));
        assertThat(output.getAll().split("kvcache warm-up:", -1)).hasSize(before);
    }

    @Test
    void backsOffWhenDisabledOrWhenTheApplicationHasItsOwnEngine() {
        runner.withPropertyValues("kvcache.enabled=false", "kvcache.model.path=" + tinyModel())
                .run(context -> assertThat(context).doesNotHaveBean(KvcacheEngine.class).doesNotHaveBean(KvcacheEndpoint.class));
        runner.withUserConfiguration(OwnEngine.class).withPropertyValues("kvcache.model.path=/nowhere")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(KvcacheEngine.class);
                    assertThat(context.getBean(KvcacheEngine.class).contextLength()).isEqualTo(64);
                });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnEngine {
        @Bean(destroyMethod = "close")
        KvcacheEngine ownEngine() {
            return new KvcacheEngine(Model.load(SharedData.require("models/tiny/stories260K.gguf")), new ComputePool(1),
                    KvCacheConfig.full(), 64, 1 << 20, java.time.Duration.ofMinutes(1));
        }
    }

    @Test
    void badValuesFailAtStartupNamingTheProperty() {
        for (String[] bad : List.of(
                new String[] {"kvcache.policy=fastgen", "kvcache.policy", "adaptive"},
                new String[] {"kvcache.mixed-precision.low-bits=5", "kvcache.mixed-precision.low-bits", "4, 3, 2"},
                new String[] {"kvcache.adaptive.evicted=keep", "kvcache.adaptive.evicted", "low-precision"},
                new String[] {"kvcache.heavy-hitter.budget-allocation=pooled", "kvcache.heavy-hitter.budget-allocation", "adaptive"},
                new String[] {"kvcache.kv-scale=e4m3", "kvcache.kv-scale", "f16, e5m3"},
                new String[] {"kvcache.threads=-1", "threads", "0"},
                new String[] {"kvcache.backend=tpu", "kvcache.backend", "tpu"},
                new String[] {"kvcache.model.context-length=100000", "kvcache.model.context-length", "512"})) {
            runner.withPropertyValues("kvcache.model.path=" + tinyModel(), bad[0]).run(context -> {
                assertThat(context).hasFailed();
                assertThat(messages(context.getStartupFailure())).as(bad[0]).contains(bad[1]).contains(bad[2]);
            });
        }
    }

    @Test
    void aMissingModelSaysWhereItLookedAndHowToFixIt() {
        runner.withPropertyValues("kvcache.model.path=/models/missing.gguf").run(context ->
                assertThat(messages(context.getStartupFailure())).contains("kvcache.model.path=/models/missing.gguf")
                        .contains("no file or folder at /models/missing.gguf").contains("kvcache.model.url"));
        runner.run(context -> assertThat(messages(context.getStartupFailure()))
                .contains("neither kvcache.model.path nor kvcache.model.url is set").contains("hf:"));
        runner.withPropertyValues("kvcache.model.path=classpath:models/none.gguf").run(context ->
                assertThat(messages(context.getStartupFailure())).contains("no such resource on the classpath"));
    }

    @Test
    void badInputsFailAtStartupSayingWhatWasWrong(@TempDir Path dir) throws Exception {
        Path truncated = dir.resolve("truncated.gguf");
        byte[] model = Files.readAllBytes(Path.of(tinyModel()));
        Files.write(truncated, Arrays.copyOf(model, model.length / 2));
        for (String[] bad : List.of(
                new String[] {"kvcache.policy=fastest", "kvcache.policy", "fastest"},
                new String[] {"kvcache.memory.budget=-1MB", "kvcache.memory.budget=-1048576 bytes", "must be positive"},
                new String[] {"kvcache.memory.budget=0", "kvcache.memory.budget=0 bytes", "must be positive"},
                // 2 tokens of the full cache: 2 x 2 layers x 4 KV heads x (4 + 2 x 16 + 2 x 16) bytes = 1088 > 1 KiB
                new String[] {"kvcache.memory.budget=1KB", "kvcache.memory.budget=1.0 KiB is too small", "2 tokens hold 1.1 KiB"},
                new String[] {"kvcache.chat.max-tokens=512", "kvcache.chat.max-tokens=512 leaves no room",
                        "512 tokens (set by the model's context length)"},
                new String[] {"kvcache.model.path=" + truncated, "kvcache.model.path=" + truncated,
                        "is not a model kvcache can load"})) {
            runner.withPropertyValues("kvcache.model.path=" + tinyModel(), bad[0]).run(context -> {
                assertThat(context).hasFailed();
                assertThat(messages(context.getStartupFailure())).as(bad[0]).contains(bad[1]).contains(bad[2]);
            });
        }
        assertThat(Files.size(truncated)).as("a bad file is left as it was").isEqualTo(model.length / 2);
    }

    @Test
    void theMemoryBudgetSetsTheContextAConversationMayReach() {
        // The full cache holds 2 layers x 4 KV heads x (2 x 16 + 2 x 16) = 512 bytes a token and one run of
        // positions (8 bytes) per head: 100,000 bytes hold 195.
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.memory.budget=100000B").run(context -> {
            KvcacheEngine engine = context.getBean(KvcacheEngine.class);
            assertThat(engine.contextLength()).isEqualTo(195);
            assertThat(engine.contextLimit()).isEqualTo("kvcache.memory.budget");
            @SuppressWarnings("unchecked")
            Map<String, Object> memory = (Map<String, Object>) context.getBean(KvcacheEndpoint.class).kvcache().get("memory");
            assertThat(memory).containsEntry("contextLength", 195).containsEntry("budgetBytes", 100_000L)
                    .containsEntry("headroomBytes", 100_000L);
        });
        // A window of 4 sinks and 32 recent tokens holds at most 36 x 512 bytes and two runs of positions per head: the model's own context remains.
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.memory.budget=19584B", "kvcache.policy=window",
                "kvcache.window.recent=32").run(context -> {
            assertThat(context.getBean(KvcacheEngine.class).contextLength()).isEqualTo(512);
            assertThat(context.getBean(KvcacheEngine.class).contextLimit()).isEqualTo("the model's context length");
        });
    }

    @Test
    void pathAndUrlAreOneOrTheOther(@TempDir Path cache) {
        for (String[] bad : List.of(
                new String[] {"kvcache.model.url=https://models.example/m.gguf", "kvcache.model.path=" + tinyModel()
                        + " and kvcache.model.url=https://models.example/m.gguf are both set"},
                new String[] {"kvcache.model.path=hf:owner/repo/m.gguf", "kvcache.model.path=hf:owner/repo/m.gguf is a URL; "
                        + "set kvcache.model.url"})) {
            String[] properties = bad[0].startsWith("kvcache.model.path")
                    ? new String[] {bad[0]} : new String[] {"kvcache.model.path=" + tinyModel(), bad[0]};
            runner.withPropertyValues(properties).run(context ->
                    assertThat(messages(context.getStartupFailure())).as(bad[0]).contains(bad[1]));
        }
        runner.withPropertyValues("kvcache.model.url=ftp://models.example/m.gguf", "kvcache.model.cache-dir=" + cache)
                .run(context -> assertThat(messages(context.getStartupFailure()))
                        .contains("kvcache.model.url=ftp://models.example/m.gguf: give an http:// or https:// URL"));
    }

    @Test
    void aDigestIsCheckedForAFileOnDiskWhichIsNeverTouched() throws Exception {
        String actual = Sha256.of(Path.of(tinyModel()));
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.model.sha256=" + actual.toUpperCase())
                .run(context -> assertThat(context).hasNotFailed());
        String wrong = "1".repeat(64);
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.model.sha256=" + wrong).run(context ->
                assertThat(messages(context.getStartupFailure())).contains("kvcache.model.sha256")
                        .contains("has SHA-256 " + actual + " but " + wrong + " was expected"));
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.model.sha256=abc").run(context ->
                assertThat(messages(context.getStartupFailure())).contains("kvcache.model.sha256=abc is not a SHA-256 digest"));
        assertThat(Sha256.of(Path.of(tinyModel()))).isEqualTo(actual);
    }

    /** The hf: shorthand against a local server standing in for Hugging Face: downloaded at the first start only. */
    @Test
    void aModelUrlIsDownloadedOnceAndLoaded(@TempDir Path cache) throws Exception {
        byte[] model = Files.readAllBytes(Path.of(tinyModel()));
        String expectedName = Model.load(Path.of(tinyModel())).config().name();
        try (ModelServer server = new ModelServer("tinystories-656k.gguf", model)) {
            String[] properties = {"kvcache.model.url=hf:raincandy-u/TinyStories-656K/tinystories-656k.gguf",
                    "kvcache.model.hf-endpoint=" + server.baseUrl(), "kvcache.model.cache-dir=" + cache,
                    "kvcache.model.sha256=" + Sha256.of(Path.of(tinyModel()))};
            runner.withPropertyValues(properties).run(context -> {
                assertThat(context).hasNotFailed();
                KvcacheEngine engine = context.getBean(KvcacheEngine.class);
                assertThat(engine.model().config().name()).isEqualTo(expectedName);
                assertThat(engine.model().source()).startsWith(cache);
                ChatResponse reply = context.getBean(ChatModel.class).call(new Prompt("Once upon a time",
                        ChatOptions.builder().maxTokens(8).build()));
                assertThat(reply.getMetadata().getUsage().getCompletionTokens()).isPositive();
            });
            int requests = server.requests().size();
            assertThat(requests).as("the resolve URL and the file it redirects to").isEqualTo(2);
            runner.withPropertyValues(properties).run(context -> assertThat(context).hasNotFailed());
            assertThat(server.requests()).as("the second start downloads nothing").hasSize(requests);

            runner.withPropertyValues("kvcache.model.url=hf:raincandy-u/TinyStories-656K/missing.gguf",
                    "kvcache.model.hf-endpoint=" + server.baseUrl(), "kvcache.model.cache-dir=" + cache).run(context ->
                    assertThat(messages(context.getStartupFailure()))
                            .contains("kvcache.model.url=hf:raincandy-u/TinyStories-656K/missing.gguf")
                            .contains(server.baseUrl() + "/raincandy-u/TinyStories-656K/resolve/main/missing.gguf answered 404"));
        }
    }

    private static String messages(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c.getMessage()).append('\n');
        }
        return all.toString();
    }

    @Test
    void theEndpointShowsPoliciesAndMemoryButNoText() {
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.policy=heavy-hitter").run(context -> {
            KvcacheEngine engine = context.getBean(KvcacheEngine.class);
            ChatResponse reply = context.getBean(ChatModel.class).call(new Prompt("Once upon a time there was a secret word: zebra.",
                    ChatOptions.builder().maxTokens(8).build()));
            String id = reply.getMetadata().getId();
            Sequence cache = engine.conversation(id).orElseThrow();
            Map<String, Object> view = context.getBean(KvcacheEndpoint.class).kvcache();
            assertThat(view.get("conversations")).isEqualTo(1);
            @SuppressWarnings("unchecked")
            Map<String, Object> totals = (Map<String, Object>) view.get("totals");
            assertThat((long) totals.get("heldBytes")).isEqualTo(cache.bytesHeld());
            assertThat((long) totals.get("fullBytes")).isEqualTo(cache.memory().fullBytes());
            assertThat((double) totals.get("ratio")).isLessThan(1.0);
            assertThat((List<?>) view.get("heads")).hasSize(2 * 4);
            assertThat(view.toString()).doesNotContain("zebra").doesNotContain("secret");
            assertThat(context.getBean(KvcacheEndpoint.class).conversation(id)).containsEntry("tokens", cache.length());
            assertThat(context.getBean(KvcacheEndpoint.class).conversation("nobody")).isNull();
        });
    }

    /**
     * Under adaptive budgets the heads of a layer hold different counts: the endpoint shows each
     * head's own entries and bytes, which sum to the conversation's, and each layer holds what
     * uniform heads would hold together.
     */
    @Test
    void theEndpointShowsEachHeadsOwnShareOfAnAdaptiveBudget() {
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.policy=heavy-hitter",
                "kvcache.heavy-hitter.budget-allocation=adaptive").run(context -> {
            KvcacheEngine engine = context.getBean(KvcacheEngine.class);
            assertThat(engine.policy().describe()).containsEntry("heavy-hitter.budget-allocation", "adaptive");
            ChatResponse reply = context.getBean(ChatModel.class).call(new Prompt("Once upon a time, there was a little girl "
                    + "named Lily. She loved to play outside in the park with her friends. One day she found a red ball.",
                    ChatOptions.builder().maxTokens(8).build()));
            String id = reply.getMetadata().getId();
            Sequence cache = engine.conversation(id).orElseThrow();
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> heads = (List<Map<String, Object>>) context.getBean(KvcacheEndpoint.class)
                    .conversation(id).get("heads");
            assertThat(heads.stream().mapToLong(head -> (long) head.get("heldBytes")).sum()).isEqualTo(cache.bytesHeld());
            assertThat(heads.stream().map(head -> head.get("entries")).distinct().count()).as("uneven heads").isGreaterThan(1);
            int perHead = engine.policy().policy().entriesAt(cache.length()).kept();
            for (int layer = 0; layer < 2; layer++) {
                int l = layer;
                assertThat(heads.stream().filter(head -> (int) head.get("layer") == l).mapToLong(head -> (long) head.get("entries")).sum())
                        .isLessThanOrEqualTo(4L * perHead);
            }
        });
    }

    /**
     * At threshold 0 every head of a window moves once the guardrail has watched it through its
     * warm-up (forward calls, over as many turns of one conversation as that takes): the endpoint
     * shows each head's new policy and move, the totals their sum, the meter counts them, and the
     * memory accounting still sums the heads.
     */
    @Test
    void theGuardrailsMovesShowPerHeadInTheEndpointAndInTheMeter() {
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.policy=window", "kvcache.window.recent=8",
                        "kvcache.guardrail.enabled=true", "kvcache.guardrail.threshold=0", "kvcache.guardrail.max-heads=1",
                        "kvcache.warm-up=false").run(context -> {
                    KvcacheEngine engine = context.getBean(KvcacheEngine.class);
                    assertThat(engine.policy().guardrail()).isEqualTo(Guardrail.DEFAULT_ON.withThreshold(0).withMaxHeads(1));
                    List<Message> messages = new ArrayList<>(List.of(new UserMessage("Once upon a time, there was a "
                            + "little girl named Lily. She loved to play outside in the park with her friends.")));
                    String id = null;
                    for (int turn = 0; turn < 10 && (id == null || engine.memory(id).orElseThrow().guardrailMoves() < 8); turn++) {
                        KvcacheChatOptions.Builder options = KvcacheChatOptions.builder().maxTokens(16);
                        if (id != null) {
                            options.conversationId(id);
                        }
                        ChatResponse reply = context.getBean(ChatModel.class).call(new Prompt(messages, options.build()));
                        id = reply.getMetadata().getId();
                        messages.add(new AssistantMessage(reply.getResult().getOutput().getText()));
                        messages.add(new UserMessage("What happened next?"));
                    }
                    Sequence cache = engine.conversation(id).orElseThrow();
                    Map<String, Object> view = context.getBean(KvcacheEndpoint.class).kvcache();
                    @SuppressWarnings("unchecked")
                    Map<String, Object> totals = (Map<String, Object>) view.get("totals");
                    assertThat(totals).containsEntry("guardrailMoves", 8L).containsEntry("heldBytes", cache.bytesHeld());
                    @SuppressWarnings("unchecked")
                    List<Map<String, Object>> heads = (List<Map<String, Object>>) view.get("heads");
                    assertThat(heads).hasSize(8).allSatisfy(head -> {
                        assertThat(head).containsEntry("policy", "full (guardrail)").containsEntry("guardrailMoves", 1L);
                    });
                    assertThat(heads.stream().mapToLong(head -> (long) head.get("heldBytes")).sum()).isEqualTo(cache.bytesHeld());
                    assertThat(context.getBean(MeterRegistry.class).get("kvcache.guardrail.moves").counter().count()).isEqualTo(8.0);
                    assertThat(engine.policy().describe()).containsEntry("guardrail.enabled", "true");
                });
    }

    @Test
    void propertyDefaultsAreTheEngineDefaults() {
        for (String policy : List.of("window", "heavy-hitter", "adaptive", "mixed-precision", "span", "layer-condensed")) {
            KvcachePolicyProperties properties = new KvcachePolicyProperties();
            properties.setPolicy(policy);
            assertThat(properties.cacheConfig()).isEqualTo(KvCacheConfig.parse(policy, Map.of()));
        }
    }

    @Test
    void configurationMetadataDescribesEveryPolicySetting() throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("metadata generated by the configuration processor").isNotNull();
            String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            for (String key : KvCacheConfig.DEFAULTS.keySet()) {
                assertThat(json).contains("\"kvcache." + key + "\"");
            }
            assertThat(json).contains("Bits of the other entries: 4, 3 or 2.");
        }
    }
}
