package io.kvcache.spring.chat;

import java.util.Optional;

/**
 * A store of conversation snapshots shared beyond this process (Redis with
 * {@code kvcache.sessions.store=redis}): the second tier behind the conversations each replica
 * keeps in memory. It holds opaque bytes by conversation id; whatever it returns is untrusted and
 * checked when it is restored.
 */
public interface ConversationStore {

    /** What the store is, for logs and health (e.g. {@code redis}). */
    String name();

    /**
     * Replaces the snapshot of conversation {@code id}, so that a reader sees the previous one or
     * this one, never a mix.
     *
     * @return false when the store refused it for being larger than its whole bound in bytes
     * @throws RuntimeException when the store cannot be reached or refuses the write
     */
    boolean save(String id, byte[] snapshot);

    /**
     * The snapshot of conversation {@code id}, empty when there is none; reading it counts as
     * access for its expiry.
     *
     * @throws io.kvcache.core.kv.snapshot.SnapshotFormatException when what the store holds under that id
     *                                                             is no complete snapshot
     * @throws RuntimeException                                    when the store cannot be reached
     */
    Optional<byte[]> load(String id);

    /** Conversations this store let go to keep within its bound in bytes (0 for a store without one). */
    default long evictions() {
        return 0;
    }

    /** Snapshots this store refused for being larger than its whole bound in bytes. */
    default long refusals() {
        return 0;
    }
}
