package io.kvcache.spring.chat;

import java.time.Duration;

/**
 * How conversations are kept between turns ({@code kvcache.sessions.*}).
 *
 * @param maxBytes          most bytes the stored conversations' caches may hold together; the least
 *                          recently used go first
 * @param expireAfterAccess how long a conversation nobody continues is kept
 * @param sharePrefixes     whether a new conversation may start from a copy of the longest token
 *                          prefix it shares with another caller's stored conversation (that one stays
 *                          untouched); off, a conversation is only ever continued by a turn that names
 *                          it or extends its whole text
 * @param storeTimeout      how long a turn waits for the store shared by replicas to hand it a
 *                          conversation this replica does not hold, before it starts that one anew
 */
public record SessionSettings(long maxBytes, Duration expireAfterAccess, boolean sharePrefixes, Duration storeTimeout) {
    /** How long a turn waits by default for the shared store before it starts without it. */
    public static final Duration DEFAULT_STORE_TIMEOUT = Duration.ofSeconds(2);

    public SessionSettings(long maxBytes, Duration expireAfterAccess, boolean sharePrefixes) {
        this(maxBytes, expireAfterAccess, sharePrefixes, DEFAULT_STORE_TIMEOUT);
    }

    public SessionSettings {
        if (storeTimeout == null || storeTimeout.isNegative() || storeTimeout.isZero()) {
            throw new IllegalArgumentException("kvcache.sessions.store-timeout must be a positive duration");
        }
        if (maxBytes < 0) {
            throw new IllegalArgumentException("kvcache.sessions.max-bytes must not be negative, got " + maxBytes);
        }
        if (expireAfterAccess == null || expireAfterAccess.isNegative()) {
            throw new IllegalArgumentException("kvcache.sessions.expire-after-access must be a positive duration");
        }
    }
}
