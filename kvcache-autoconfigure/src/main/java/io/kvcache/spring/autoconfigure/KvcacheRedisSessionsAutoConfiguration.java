package io.kvcache.spring.autoconfigure;

import io.kvcache.spring.chat.ConversationStore;
import io.kvcache.spring.sessions.RedisConversationStore;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * {@code kvcache.sessions.store=redis}: conversations kept in Redis as well, through the connection
 * Boot configures from {@code spring.data.redis.*} (Lettuce), where Spring Data Redis is on the
 * class path.
 */
@AutoConfiguration(before = KvcacheAutoConfiguration.class,
        afterName = "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration")
@ConditionalOnClass(RedisConnectionFactory.class)
@ConditionalOnProperty(prefix = "kvcache.sessions", name = "store", havingValue = "redis")
@EnableConfigurationProperties(KvcacheSessionsProperties.class)
public class KvcacheRedisSessionsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(ConversationStore.class)
    ConversationStore kvcacheConversationStore(RedisConnectionFactory connections, KvcacheSessionsProperties sessions) {
        return new RedisConversationStore(connections, sessions.getRedis().getKeyPrefix(),
                (int) Math.min(Integer.MAX_VALUE, sessions.getRedis().getChunkSize().toBytes()),
                sessions.getExpireAfterAccess(), sessions.getMaxBytes().toBytes(),
                sessions.getRedis().getMaxBytes() == null ? Long.MAX_VALUE : sessions.getRedis().getMaxBytes().toBytes());
    }
}
