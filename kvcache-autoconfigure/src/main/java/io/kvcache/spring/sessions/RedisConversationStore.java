package io.kvcache.spring.sessions;

import io.kvcache.core.kv.snapshot.SnapshotFormatException;
import io.kvcache.spring.chat.ConversationStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStringCommands;
import org.springframework.data.redis.connection.RedisZSetCommands;
import org.springframework.data.redis.connection.ReturnType;
import org.springframework.data.redis.core.types.Expiration;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Conversation snapshots in Redis, through Spring Data Redis (Lettuce, configured by Boot's
 * {@code spring.data.redis.*}). A snapshot is written in chunks of at most {@code chunkBytes}
 * under keys of its own version ({@code <prefix><id>:<version>:<chunk>}); once every chunk is
 * there, one transaction points the conversation's key ({@code <prefix><id>}) at the new version
 * and lets the chunks of the old one expire after a grace period, so a reader finds either the
 * old snapshot whole or the new one whole, never half of one. Every key expires
 * {@code expireAfterAccess} after it was last written or read.
 *
 * <p>What the store keeps for the application (its key prefix) is bounded in bytes: beside the
 * conversations, a hash ({@code <prefix>{bytes}}) holds each conversation's snapshot bytes, a
 * counter ({@code <prefix>{total}}) their sum, and a sorted set ({@code <prefix>{access}}) when each
 * was last written or read. After a write, one script adds the snapshot there and, while the sum
 * exceeds the bound, takes out the conversation least recently used, whose keys are then let go as
 * a replaced version's are; a conversation that has expired meanwhile is taken out first (it was
 * used longest ago) and frees nothing but its count. A snapshot larger than the whole bound is
 * refused, with a log line. Replicas share the bound, the script being atomic in Redis.
 */
public final class RedisConversationStore implements ConversationStore {
    private static final Log log = LogFactory.getLog(RedisConversationStore.class);
    /**
     * KEYS: bytes hash, total counter, access set; ARGV: id, its bytes, now (ms), the bound, the
     * expiry of these keys (ms). Returns the ids taken out, least recently used first.
     */
    private static final byte[] ACCOUNT = ("""
            local old = redis.call('HGET', KEYS[1], ARGV[1])
            if old then redis.call('DECRBY', KEYS[2], old) end
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            local total = redis.call('INCRBY', KEYS[2], ARGV[2])
            redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
            local evicted = {}
            while total > tonumber(ARGV[4]) do
              local oldest = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
              if not oldest or oldest == ARGV[1] then break end
              local size = redis.call('HGET', KEYS[1], oldest)
              redis.call('ZREM', KEYS[3], oldest)
              redis.call('HDEL', KEYS[1], oldest)
              if size then total = redis.call('DECRBY', KEYS[2], size) end
              table.insert(evicted, oldest)
            end
            for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
            return evicted
            """).getBytes(StandardCharsets.UTF_8);

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
    private final long storeBytes;
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicLong refusals = new AtomicLong();

    /**
     * @param prefix            what every key starts with
     * @param chunkBytes        most bytes per chunk
     * @param expireAfterAccess how long a conversation nobody continues is kept
     * @param maxBytes          most bytes of a snapshot this store reads back (larger ones are misses)
     * @param storeBytes        most bytes of snapshots the store keeps for the application, all replicas
     *                          together ({@link Long#MAX_VALUE} for no bound)
     */
    public RedisConversationStore(RedisConnectionFactory connections, String prefix, int chunkBytes,
                                  Duration expireAfterAccess, long maxBytes, long storeBytes) {
        if (chunkBytes < MIN_CHUNK_BYTES) {
            throw new IllegalArgumentException("kvcache.sessions.redis.chunk-size must be at least 64KB, got " + chunkBytes + " bytes");
        }
        if (storeBytes <= 0) {
            throw new IllegalArgumentException("kvcache.sessions.redis.max-bytes must be positive, got " + storeBytes
                    + " bytes; leave it unset for no bound");
        }
        this.storeBytes = storeBytes;
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

    /** One of the keys that account the bytes kept ({@code bytes}, {@code total}, {@code access}). */
    private byte[] accountKey(String which) {
        return (prefix + "{" + which + "}").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public long evictions() {
        return evictions.get();
    }

    @Override
    public long refusals() {
        return refusals.get();
    }

    private byte[] chunkKey(String id, String version, int chunk) {
        return (prefix + id + ":" + version + ":" + chunk).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean save(String id, byte[] snapshot) {
        if (snapshot.length > storeBytes) {
            refusals.incrementAndGet();
            log.warn("kvcache sessions: conversation " + id + " takes " + snapshot.length + " bytes, more than "
                    + "kvcache.sessions.redis.max-bytes=" + storeBytes + " for the whole store; it is kept on this replica only");
            return false;
        }
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
            letGo(redis, id, previous);
            redis.exec();
            List<byte[]> evicted = redis.scriptingCommands().eval(ACCOUNT, ReturnType.MULTI, 3, accountKey("bytes"),
                    accountKey("total"), accountKey("access"), id.getBytes(StandardCharsets.UTF_8),
                    Long.toString(snapshot.length).getBytes(StandardCharsets.US_ASCII), now(),
                    Long.toString(storeBytes).getBytes(StandardCharsets.US_ASCII),
                    Long.toString(expireAfterAccess.toMillis()).getBytes(StandardCharsets.US_ASCII));
            for (byte[] gone : evicted == null ? List.<byte[]>of() : evicted) {
                String other = new String(gone, StandardCharsets.UTF_8);
                byte[] pointer = redis.stringCommands().getRange(key(other), 0, MAX_POINTER_BYTES);
                if (pointer == null || pointer.length == 0) {
                    continue; // expired already: only its count was left
                }
                redis.multi();
                redis.keyCommands().del(key(other));
                letGo(redis, other, pointer);
                redis.exec();
                evictions.incrementAndGet();
                log.info("kvcache sessions: conversation " + other + " let go from the " + name() + " store to keep "
                        + "kvcache.sessions.redis.max-bytes=" + storeBytes);
            }
        }
        return true;
    }

    /** Lets the chunks the pointer {@code previous} names expire after the grace period (inside a transaction). */
    private void letGo(RedisConnection redis, String id, byte[] previous) {
        if (previous == null || previous.length == 0) {
            return;
        }
        try {
            Pointer old = Pointer.parse(previous, Long.MAX_VALUE);
            for (int c = 0; c < old.chunks(); c++) {
                redis.keyCommands().pExpire(chunkKey(id, old.version(), c), Math.min(GRACE.toMillis(), expireAfterAccess.toMillis()));
            }
        } catch (SnapshotFormatException foreign) {
            // nothing of ours to let go
        }
    }

    private static byte[] now() {
        return Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.US_ASCII);
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
            redis.zSetCommands().zAdd(accountKey("access"), System.currentTimeMillis(), id.getBytes(StandardCharsets.UTF_8),
                    RedisZSetCommands.ZAddArgs.empty().ifExists());
            return Optional.of(snapshot);
        }
    }
}
