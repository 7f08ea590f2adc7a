package io.kvcache.spring.sessions;

import io.kvcache.spring.actuate.KvcacheHealthIndicator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.boot.health.contributor.Health;

import static io.kvcache.spring.sessions.RedisSessionsTest.awaitStore;
import static io.kvcache.spring.sessions.RedisSessionsTest.chat;
import static io.kvcache.spring.sessions.RedisSessionsTest.store;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Redis that goes down while the application runs: chats go on with conversations kept on this
 * replica only, and the kvcache health says DEGRADED with the reason.
 */
class RedisStoreDownTest {
    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    @Test
    void chatsGoOnWhenTheStoreDiesAndHealthSaysItIsDegraded() {
        RedisSessionsTest.replica(redis).run(context -> {
            String id = chat(context, null, new UserMessage("The cat sat on the mat and")).getMetadata().getId();
            awaitStore(context, s -> s.saved() == 1);
            assertThat(context.getBean(KvcacheHealthIndicator.class).health().getStatus().getCode()).isEqualTo("UP");

            redis.kill();
            long start = System.nanoTime();
            String reply = chat(context, "elsewhere", new UserMessage("Once upon a time")).getResult().getOutput().getText();
            assertThat(reply).isNotEmpty();
            awaitStore(context, s -> !s.reachable());
            // the conversation this replica holds continues as before
            assertThat(chat(context, id, new UserMessage("The cat sat on the mat and")).getResult().getOutput().getText()).isNotEmpty();
            assertThat((System.nanoTime() - start) / 1e9).as("seconds two turns took with the store down").isLessThan(5);
            Health health = context.getBean(KvcacheHealthIndicator.class).health();
            assertThat(health.getStatus().getCode()).isEqualTo(KvcacheHealthIndicator.DEGRADED);
            assertThat(health.getStatus().getDescription()).contains("kept on this replica only");
            assertThat(store(context).failures()).isPositive();
        });
    }
}
