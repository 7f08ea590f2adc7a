package io.kvcache.spring;

import io.kvcache.core.SharedData;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvPolicy;
import io.kvcache.core.model.Model;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class KvcacheAutoConfigurationTest {
    /** An application that exposes the kvcache endpoint (over JMX here: the runner has no web server). */
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(KvcacheAutoConfiguration.class, KvcacheActuatorAutoConfiguration.class))
            .withPropertyValues("spring.jmx.enabled=true", "management.endpoints.jmx.exposure.include=kvcache");

    private static String tinyModel() {
        return SharedData.require("models/tiny/tinystories-656k.gguf").toString();
    }

    @Test
    void loadsTheModelWithTheConfiguredPolicy() {
        runner.withPropertyValues("kvcache.model.path=" + tinyModel(), "kvcache.policy=window", "kvcache.window.recent=32",
                        "kvcache.threads=2", "kvcache.model.context-length=256")
                .run(context -> {
                    KvcacheEngine engine = context.getBean(KvcacheEngine.class);
                    assertThat(engine.policy().kind()).isEqualTo(KvPolicy.Kind.WINDOW);
                    assertThat(engine.policy().window().recent()).isEqualTo(32);
                    assertThat(engine.contextLength()).isEqualTo(256);
                    assertThat(engine.backend().details()).containsEntry("threads", 2);
                    assertThat(context).hasSingleBean(KvcacheEndpoint.class).hasSingleBean(KvcacheHealthIndicator.class);
                });
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
                    KvPolicy.full(), 64, 1 << 20, java.time.Duration.ofMinutes(1));
        }
    }

    @Test
    void badValuesFailAtStartupNamingTheProperty() {
        for (String[] bad : List.of(
                new String[] {"kvcache.policy=fastgen", "kvcache.policy", "adaptive"},
                new String[] {"kvcache.mixed-precision.low-bits=5", "kvcache.mixed-precision.low-bits", "4, 3, 2"},
                new String[] {"kvcache.adaptive.evicted=keep", "kvcache.adaptive.evicted", "low-precision"},
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
                        .contains("no file or folder at /models/missing.gguf"));
        runner.run(context -> assertThat(messages(context.getStartupFailure())).contains("kvcache.model.path is not set"));
        runner.withPropertyValues("kvcache.model.path=classpath:models/none.gguf").run(context ->
                assertThat(messages(context.getStartupFailure())).contains("no such resource on the classpath"));
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
            KvCache cache = engine.conversation(id).orElseThrow();
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

    @Test
    void propertyDefaultsAreTheEngineDefaults() {
        for (String policy : List.of("window", "heavy-hitter", "adaptive", "mixed-precision", "span", "layer-condensed")) {
            KvcacheProperties properties = new KvcacheProperties();
            properties.setPolicy(policy);
            assertThat(properties.policy()).isEqualTo(KvPolicy.parse(policy, Map.of()));
        }
    }

    @Test
    void configurationMetadataDescribesEveryPolicySetting() throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("metadata generated by the configuration processor").isNotNull();
            String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            for (String key : KvPolicy.DEFAULTS.keySet()) {
                assertThat(json).contains("\"kvcache." + key + "\"");
            }
            assertThat(json).contains("Bits of the other entries: 4, 3 or 2.");
        }
    }
}
