package io.kvcache.spring.autoconfigure;

import jakarta.validation.constraints.Min;
import io.kvcache.spring.chat.SessionSettings;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/** {@code kvcache.sessions.*}: the conversations kept between turns, and how many generate at once. */
@ConfigurationProperties("kvcache.sessions")
@Validated
public class KvcacheSessionsProperties {
    /**
     * Most bytes the KV caches of conversations kept between turns may hold together; the least recently used go
     * first. Conversations generating at the moment count against memory.budget instead.
     */
    private DataSize maxBytes = DataSize.ofMegabytes(256);

    /** How long a conversation nobody continues is kept. */
    private Duration expireAfterAccess = Duration.ofMinutes(30);

    /** Conversations that generate at the same time; further requests wait for a free one. */
    @Min(1)
    private int maxActive = 2;

    /** How long a request waits for a free conversation slot, and for memory.budget, before it is refused. */
    private Duration maxWait = Duration.ofSeconds(60);

    /**
     * Whether a new conversation may start from a copy of the longest token prefix it shares with
     * another stored conversation (e.g. the same long system prompt), which stays untouched. Off, a
     * conversation is only continued by a turn that names it or extends its whole text, so no
     * caller learns from its time to first token how much of another's prompt it matched.
     */
    private boolean sharePrefixes = false;

    /**
     * Where conversations are kept between turns: {@code local}, in this process only; {@code redis}, also in
     * Redis (spring.data.redis.*), written after each turn, so that another replica, or this one after a restart,
     * continues them without evaluating their history again.
     */
    private Store store = Store.LOCAL;

    /** How long a turn waits for the shared store to hand over a conversation this replica does not hold. */
    private Duration storeTimeout = SessionSettings.DEFAULT_STORE_TIMEOUT;

    private final Redis redis = new Redis();

    /** The places conversations may be kept in. */
    public enum Store {
        LOCAL, REDIS
    }

    /** {@code kvcache.sessions.redis.*}: how conversations are laid out in Redis. */
    public static class Redis {
        /** What every key kvcache writes starts with. */
        private String keyPrefix = "kvcache:session:";

        /** Most bytes per Redis value; a larger conversation is written in several, switched to at once. */
        private DataSize chunkSize = DataSize.ofMegabytes(4);

        /**
         * Most bytes of conversations Redis keeps for this application, all replicas together; past it the least
         * recently used conversations are let go, and one larger than all of it is kept on its replica only. Unset:
         * no bound but expiry.
         */
        private DataSize maxBytes;

        public DataSize getMaxBytes() {
            return maxBytes;
        }

        public void setMaxBytes(DataSize maxBytes) {
            this.maxBytes = maxBytes;
        }

        public String getKeyPrefix() {
            return keyPrefix;
        }

        public void setKeyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
        }

        public DataSize getChunkSize() {
            return chunkSize;
        }

        public void setChunkSize(DataSize chunkSize) {
            this.chunkSize = chunkSize;
        }
    }

    /** These settings as the conversation store takes them. */
    public SessionSettings settings() {
        return new SessionSettings(maxBytes.toBytes(), expireAfterAccess, sharePrefixes, storeTimeout);
    }

    public Store getStore() {
        return store;
    }

    public void setStore(Store store) {
        this.store = store;
    }

    public Duration getStoreTimeout() {
        return storeTimeout;
    }

    public void setStoreTimeout(Duration storeTimeout) {
        this.storeTimeout = storeTimeout;
    }

    public Redis getRedis() {
        return redis;
    }

    public boolean isSharePrefixes() {
        return sharePrefixes;
    }

    public void setSharePrefixes(boolean sharePrefixes) {
        this.sharePrefixes = sharePrefixes;
    }

    public DataSize getMaxBytes() {
        return maxBytes;
    }

    public void setMaxBytes(DataSize maxBytes) {
        this.maxBytes = maxBytes;
    }

    public Duration getExpireAfterAccess() {
        return expireAfterAccess;
    }

    public void setExpireAfterAccess(Duration expireAfterAccess) {
        this.expireAfterAccess = expireAfterAccess;
    }

    public int getMaxActive() {
        return maxActive;
    }

    public void setMaxActive(int maxActive) {
        this.maxActive = maxActive;
    }

    public Duration getMaxWait() {
        return maxWait;
    }

    public void setMaxWait(Duration maxWait) {
        this.maxWait = maxWait;
    }
}
