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
 */
public record SessionSettings(long maxBytes, Duration expireAfterAccess, boolean sharePrefixes) {
    public SessionSettings {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("kvcache.sessions.max-bytes must not be negative, got " + maxBytes);
        }
        if (expireAfterAccess == null || expireAfterAccess.isNegative()) {
            throw new IllegalArgumentException("kvcache.sessions.expire-after-access must be a positive duration");
        }
    }
}
