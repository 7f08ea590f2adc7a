package io.kvcache.spring.sessions;

import io.kvcache.core.kv.snapshot.SnapshotFormatException;
import io.kvcache.spring.chat.ConversationStore;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStringCommands;
import org.springframework.data.redis.core.types.Expiration;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Conversation snapshots in Redis, through Spring Data Redis (Lettuce, configured by Boot's
 * {@code spring.data.redis.*}). A snapshot is written in chunks of at most {@code chunkBytes}
 * under keys of its own version ({@code <prefix><id>:<version>:<chunk>}); once every chunk is
 * there, one transaction points the conversation's key ({@code <prefix><id>}) at the new version
 * and lets the chunks of the old one expire after a grace period, so a reader finds either the
 * old snapshot whole or the new one whole, never half of one. Every key expires
 * {@code expireAfterAccess} after it was last written or read.
 */
public final class RedisConversationStore implements ConversationStore {
    /** What the pointer value starts with: the layout of this store's keys, version 1. */
    private static final String POINTER = "kvcache-chunks/1";
    /** How long the chunks of a replaced version stay readable for a reader that saw the old pointer. */
    private static final Duration GRACE = Duration.ofSeconds(30);
    private static final int MAX_POINTER_BYTES = 256;
    /** The least bytes per chunk, which bounds the chunks a pointer may name. */
    public static final int MIN_CHUNK_BYTES = 64 << 10;

    private final RedisConnectionFactory connections;
    private final String prefix;
    private final int chunkBytes;
    private final Duration expireAfterAccess;
    private final long maxBytes;

    /**
     * @param prefix            what every key starts with
     * @param chunkBytes        most bytes per chunk
     * @param expireAfterAccess how long a conversation nobody continues is kept
     * @param maxBytes          most bytes of a snapshot this store reads back (larger ones are misses)
     */
    public RedisConversationStore(RedisConnectionFactory connections, String prefix, int chunkBytes,
                                  Duration expireAfterAccess, long maxBytes) {
        if (chunkBytes < MIN_CHUNK_BYTES) {
            throw new IllegalArgumentException("kvcache.sessions.redis.chunk-size must be at least 64KB, got " + chunkBytes + " bytes");
        }
        this.connections = connections;
        this.prefix = prefix;
        this.chunkBytes = chunkBytes;
        this.expireAfterAccess = expireAfterAccess;
        this.maxBytes = maxBytes;
    }

    @Override
    public String name() {
        return "redis";
    }

    /** The pointer: which version holds the snapshot, in how many chunks, of how many bytes. */
    private record Pointer(String version, int chunks, long bytes) {
        byte[] encoded() {
            return (POINTER + " " + version + " " + chunks + " " + bytes).getBytes(StandardCharsets.US_ASCII);
        }

        static Pointer parse(byte[] value, long maxBytes) {
            String[] parts = value.length > MAX_POINTER_BYTES ? new String[0]
                    : new String(value, StandardCharsets.US_ASCII).split(" ");
            if (parts.length != 4 || !parts[0].equals(POINTER) || !parts[1].matches("[0-9a-f-]{1,64}")) {
                throw new SnapshotFormatException("the conversation's key holds no " + POINTER + " pointer");
            }
            try {
                int chunks = Integer.parseInt(parts[2]);
                long bytes = Long.parseLong(parts[3]);
                if (chunks < 1 || bytes < 0 || bytes > Integer.MAX_VALUE - 8 || chunks > bytes / MIN_CHUNK_BYTES + 1) {
                    throw new SnapshotFormatException("the pointer names " + chunks + " chunks of " + bytes + " bytes");
                }
                if (bytes > maxBytes) {
                    throw new SnapshotFormatException("the snapshot takes " + bytes + " bytes, more than kvcache.sessions.max-bytes="
                            + maxBytes);
                }
                return new Pointer(parts[1], chunks, bytes);
            } catch (NumberFormatException e) {
                throw new SnapshotFormatException("the pointer's counts are no numbers");
            }
        }
    }

    private byte[] key(String id) {
        return (prefix + id).getBytes(StandardCharsets.UTF_8);
    }

    private byte[] chunkKey(String id, String version, int chunk) {
        return (prefix + id + ":" + version + ":" + chunk).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void save(String id, byte[] snapshot) {
        int chunks = Math.max(1, (int) ((snapshot.length + (long) chunkBytes - 1) / chunkBytes));
        Pointer next = new Pointer(UUID.randomUUID().toString(), chunks, snapshot.length);
        Expiration expiry = Expiration.from(expireAfterAccess);
        try (RedisConnection redis = connections.getConnection()) {
            byte[] previous = redis.stringCommands().getRange(key(id), 0, MAX_POINTER_BYTES);
            for (int c = 0; c < chunks; c++) {
                int from = c * chunkBytes;
                byte[] chunk = java.util.Arrays.copyOfRange(snapshot, from, Math.min(snapshot.length, from + chunkBytes));
                redis.stringCommands().set(chunkKey(id, next.version(), c), chunk, expiry, RedisStringCommands.SetOption.upsert());
            }
            redis.multi();
            redis.stringCommands().set(key(id), next.encoded(), expiry, RedisStringCommands.SetOption.upsert());
            if (previous != null && previous.length > 0) {
                try {
                    Pointer old = Pointer.parse(previous, Long.MAX_VALUE);
                    for (int c = 0; c < old.chunks(); c++) {
                        redis.keyCommands().pExpire(chunkKey(id, old.version(), c), Math.min(GRACE.toMillis(), expireAfterAccess.toMillis()));
                    }
                } catch (SnapshotFormatException foreign) {
                    // nothing of ours to let go
                }
            }
            redis.exec();
        }
    }

    @Override
    public Optional<byte[]> load(String id) {
        try (RedisConnection redis = connections.getConnection()) {
            // at most a pointer's length, whatever a foreign writer left under the key
            byte[] value = redis.stringCommands().getRange(key(id), 0, MAX_POINTER_BYTES);
            if (value == null || value.length == 0) {
                return Optional.empty();
            }
            Pointer pointer = Pointer.parse(value, maxBytes);
            byte[][] keys = new byte[pointer.chunks()][];
            for (int c = 0; c < keys.length; c++) {
                keys[c] = chunkKey(id, pointer.version(), c);
            }
            List<byte[]> chunks = redis.stringCommands().mGet(keys);
            byte[] snapshot = new byte[(int) pointer.bytes()];
            int at = 0;
            for (int c = 0; c < keys.length; c++) {
                byte[] chunk = chunks.get(c);
                if (chunk == null || chunk.length > snapshot.length - at) {
                    throw new SnapshotFormatException("chunk " + c + " of " + keys.length + " is "
                            + (chunk == null ? "missing" : "longer than the pointer says"));
                }
                System.arraycopy(chunk, 0, snapshot, at, chunk.length);
                at += chunk.length;
            }
            if (at != snapshot.length) {
                throw new SnapshotFormatException("the chunks hold " + at + " bytes, the pointer says " + snapshot.length);
            }
            List<byte[]> touched = new ArrayList<>(List.of(keys));
            touched.add(key(id));
            for (byte[] key : touched) {
                redis.keyCommands().pExpire(key, expireAfterAccess.toMillis());
            }
            return Optional.of(snapshot);
        }
    }
}
