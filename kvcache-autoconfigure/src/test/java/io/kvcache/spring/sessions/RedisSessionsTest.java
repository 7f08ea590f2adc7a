package io.kvcache.spring.sessions;

import io.kvcache.core.SharedData;
import io.kvcache.spring.actuate.KvcacheHealthIndicator;
import io.kvcache.spring.autoconfigure.KvcacheActuatorAutoConfiguration;
import io.kvcache.spring.autoconfigure.KvcacheAutoConfiguration;
import io.kvcache.spring.autoconfigure.KvcacheRedisSessionsAutoConfiguration;
import io.kvcache.spring.chat.KvcacheChatOptions;
import io.kvcache.spring.chat.KvcacheEngine;
import io.kvcache.spring.chat.SessionStoreStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code kvcache.sessions.store=redis} against a real redis-server: two application contexts on
 * one Redis stand for two replicas. A conversation started on one continues on the other, which
 * evaluates only the new tokens and answers as the first would; keys expire after access; bytes
 * that are no snapshot of this model are a clean miss, logged.
 */
@ExtendWith(OutputCaptureExtension.class)
class RedisSessionsTest {
    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final String FIRST = "The cat sat on the mat and";

    private static ApplicationContextRunner replica(String... properties) {
        return replica(redis, properties);
    }

    /** An application on {@code server} with kvcache's sessions in it, and the tiny model. */
    static ApplicationContextRunner replica(RedisServer server, String... properties) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, KvcacheRedisSessionsAutoConfiguration.class,
                        KvcacheAutoConfiguration.class, KvcacheActuatorAutoConfiguration.class))
                .withUserConfiguration(Meters.class)
                .withPropertyValues("kvcache.model.path=" + SharedData.require("models/tiny/tinystories-656k.gguf"),
                        "kvcache.threads=1", "kvcache.warm-up=false", "kvcache.model.context-length=256",
                        "kvcache.chat.max-tokens=16", "kvcache.chat.temperature=0", "kvcache.sessions.store=redis",
                        "spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + server.port(),
                        "spring.data.redis.timeout=500ms", "spring.data.redis.connect-timeout=500ms")
                .withPropertyValues(properties);
    }

    @Configuration(proxyBeanMethods = false)
    static class Meters {
        @Bean
        SimpleMeterRegistry meters() {
            return new SimpleMeterRegistry();
        }
    }

    static ChatResponse chat(AssertableApplicationContext context, String conversation, org.springframework.ai.chat.messages.Message... messages) {
        KvcacheChatOptions.Builder options = KvcacheChatOptions.builder();
        if (conversation != null) {
            options.conversationId(conversation);
        }
        return context.getBean(ChatModel.class).call(new Prompt(List.of(messages), options.build()));
    }

    static SessionStoreStatus store(AssertableApplicationContext context) {
        return context.getBean(KvcacheEngine.class).sessionStore().orElseThrow();
    }

    static void awaitStore(AssertableApplicationContext context, Predicate<SessionStoreStatus> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.test(store(context))) {
            assertThat(System.nanoTime()).as("waiting for the store: %s", store(context)).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** Prompt tokens of the last turn taken from a stored conversation instead of being evaluated. */
    static double lastReused(AssertableApplicationContext context) {
        var summary = context.getBean(SimpleMeterRegistry.class).get("kvcache.prompt.reused").summary();
        return summary.max();
    }

    /**
     * A story of some 300 tokens, whose mixed-precision cache takes two 64 KB chunks: the second
     * replica reads a snapshot the first wrote in pieces.
     */
    @Test
    void aConversationStartedOnOneReplicaContinuesOnAnotherWithoutReadingItsHistoryAgain() throws Exception {
        String story = Files.readString(SharedData.require("eval/tinystories-eval.txt")).substring(0, 1200);
        String[] settings = {"kvcache.policy=mixed-precision", "kvcache.model.context-length=512",
                "kvcache.sessions.redis.chunk-size=64KB"};
        replica(settings).run(first -> replica(settings).run(second -> {
            ChatResponse reply = chat(first, null, new UserMessage(story));
            String id = reply.getMetadata().getId();
            String replyText = reply.getResult().getOutput().getText();
            awaitStore(first, s -> s.saved() == 1);
            try (RedisConnection connection = first.getBean(RedisConnectionFactory.class).getConnection()) {
                assertThat(connection.keyCommands().keys(("kvcache:session:" + id + ":*").getBytes(StandardCharsets.UTF_8)))
                        .as("chunks").hasSize(2);
            }

            UserMessage followUp = new UserMessage("It was warm.");
            ChatResponse there = chat(second, id, new UserMessage(story), new AssistantMessage(replyText), followUp);
            assertThat(store(second).loaded()).isEqualTo(1);
            double reusedThere = lastReused(second);
            // the first turn's prompt and reply came from the store: only the follow-up's tokens were evaluated
            assertThat(reusedThere).isGreaterThan(reply.getMetadata().getUsage().getPromptTokens());
            assertThat(there.getMetadata().getUsage().getPromptTokens() - reusedThere).isLessThan(8);

            // the replica that started it, holding it in memory, answers the same and reuses as much
            ChatResponse here = chat(first, id, new UserMessage(story), new AssistantMessage(replyText), followUp);
            assertThat(there.getResult().getOutput().getText()).isEqualTo(here.getResult().getOutput().getText());
            assertThat(lastReused(first)).isEqualTo(reusedThere);
            assertThat(store(first).loaded()).isZero();

            // the second replica's turn was saved too, and its memory report matches the first's
            awaitStore(second, s -> s.saved() == 1);
            assertThat(second.getBean(KvcacheEngine.class).memory(id)).isEqualTo(first.getBean(KvcacheEngine.class).memory(id));
            assertThat(second.getBean(KvcacheHealthIndicator.class).health().getStatus().getCode()).isEqualTo("UP");
        }));
    }

    @Test
    void aConversationExpiresFromTheStoreAfterAccess() {
        replica("kvcache.sessions.expire-after-access=1s").run(first -> {
            String id = chat(first, null, new UserMessage(FIRST)).getMetadata().getId();
            awaitStore(first, s -> s.saved() == 1);
            RedisConnectionFactory connections = first.getBean(RedisConnectionFactory.class);
            try (RedisConnection connection = connections.getConnection()) {
                byte[] key = ("kvcache:session:" + id).getBytes(StandardCharsets.UTF_8);
                assertThat(connection.keyCommands().pTtl(key)).isBetween(1L, 1000L);
                Thread.sleep(1300);
                assertThat(connection.keyCommands().exists(key)).isFalse();
                // the chunks with it
                assertThat(connection.keyCommands().keys(("kvcache:session:" + id + "*").getBytes(StandardCharsets.UTF_8))).isEmpty();
            }
            replica().run(second -> {
                chat(second, id, new UserMessage(FIRST));
                assertThat(store(second).loaded()).isZero();
                assertThat(store(second).misses()).isEqualTo(1);
            });
        });
    }

    @Test
    void bytesThatAreNoSnapshotOfThisModelAreACleanMissAndLogged(CapturedOutput output) {
        replica("kvcache.policy=window").run(context -> {
            RedisConnectionFactory connections = context.getBean(RedisConnectionFactory.class);
            try (RedisConnection connection = connections.getConnection()) {
                connection.stringCommands().set("kvcache:session:foreign".getBytes(StandardCharsets.UTF_8),
                        "{\"some\": \"other application's value\"}".getBytes(StandardCharsets.UTF_8));
                connection.stringCommands().set("kvcache:session:torn".getBytes(StandardCharsets.UTF_8),
                        "kvcache-chunks/1 0123abcd 2 70000".getBytes(StandardCharsets.US_ASCII));
                connection.stringCommands().set("kvcache:session:torn:0123abcd:0".getBytes(StandardCharsets.UTF_8), new byte[65536]);
            }
            ChatResponse foreign = chat(context, "foreign", new UserMessage(FIRST));
            ChatResponse torn = chat(context, "torn", new UserMessage(FIRST));
            // a full policy's snapshot of this conversation, read by a replica running window
            String written = chat(context, null, new UserMessage(FIRST)).getMetadata().getId();
            awaitStore(context, s -> s.saved() == 3);
            replica("kvcache.policy=full").run(other -> {
                chat(other, written, new UserMessage(FIRST));
                assertThat(store(other).misses()).isEqualTo(1);
            });
            assertThat(foreign.getResult().getOutput().getText()).isEqualTo(torn.getResult().getOutput().getText()).isNotEmpty();
            assertThat(store(context).misses()).isEqualTo(2);
            assertThat(store(context).reachable()).isTrue();
            assertThat(output).contains("conversation foreign cannot be continued here", "no kvcache-chunks/1 pointer",
                    "conversation torn cannot be continued here", "chunk 1 of 2 is missing", "kvcache.policy");
        });
    }
}
