package io.kvcache.spring.sessions;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code kvcache.sessions.redis.max-bytes} against a real redis-server: what two stores (two
 * replicas) keep together stays within the bound, the least recently written or read conversation
 * going first, and a snapshot larger than the whole bound is refused.
 */
class RedisStoreBoundTest {
    @RegisterExtension
    static final RedisServer redis = new RedisServer();
    private static final int KB = 1024;
    private static final String PREFIX = "bound:";

    private LettuceConnectionFactory connections;

    @BeforeEach
    void connect() {
        connections = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", redis.port()));
        connections.afterPropertiesSet();
        connections.start();
        try (RedisConnection c = connections.getConnection()) {
            c.serverCommands().flushAll();
        }
    }

    @AfterEach
    void close() {
        connections.destroy();
    }

    private RedisConversationStore store() {
        return new RedisConversationStore(connections, PREFIX, 64 * KB, Duration.ofMinutes(5), 10L << 20, 250 * KB);
    }

    /** A snapshot of {@code kb} KB whose bytes say which it is. */
    private static byte[] snapshot(int kb, int fill) {
        byte[] bytes = new byte[kb * KB];
        Arrays.fill(bytes, (byte) fill);
        return bytes;
    }

    private long total() {
        try (RedisConnection c = connections.getConnection()) {
            return Long.parseLong(new String(c.stringCommands().get((PREFIX + "{total}").getBytes(StandardCharsets.UTF_8)),
                    StandardCharsets.US_ASCII));
        }
    }

    @Test
    void theLeastRecentlyUsedConversationsGoFirstAndTheTotalStaysWithinTheBound() throws Exception {
        RedisConversationStore one = store();
        RedisConversationStore two = store();
        assertThat(one.save("a", snapshot(100, 1))).isTrue();
        Thread.sleep(5);
        assertThat(two.save("b", snapshot(100, 2))).isTrue();
        Thread.sleep(5);
        // 300 KB > 250 KB: a, written first, goes
        assertThat(one.save("c", snapshot(100, 3))).isTrue();
        assertThat(one.load("a")).isEmpty();
        assertThat(total()).isEqualTo(200 * KB);
        assertThat(one.evictions() + two.evictions()).isEqualTo(1);
        Thread.sleep(5);
        // b read on the other replica is used more recently than c, so c goes next
        assertThat(two.load("b")).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(snapshot(100, 2)));
        Thread.sleep(5);
        assertThat(two.save("d", snapshot(100, 4))).isTrue();
        assertThat(one.load("c")).isEmpty();
        assertThat(one.load("b")).isPresent();
        assertThat(one.load("d")).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(snapshot(100, 4)));
        assertThat(total()).isEqualTo(200 * KB);
        // a conversation written again counts its new size only: 200 - 100 + 40
        assertThat(one.save("b", snapshot(40, 5))).isTrue();
        assertThat(total()).isEqualTo(140 * KB);
        assertThat(one.evictions() + two.evictions()).isEqualTo(2);
    }

    @Test
    void aSnapshotLargerThanTheWholeBoundIsRefusedAndNothingElseIsLost() {
        RedisConversationStore store = store();
        assertThat(store.save("small", snapshot(100, 1))).isTrue();
        assertThat(store.save("huge", snapshot(251, 2))).isFalse();
        assertThat(store.refusals()).isEqualTo(1);
        assertThat(store.load("huge")).isEmpty();
        assertThat(store.load("small")).isPresent();
        assertThat(total()).isEqualTo(100 * KB);
        assertThat(store.evictions()).isZero();
    }
}
