package io.kvcache.spring.chat;

/**
 * How the store shared by replicas is doing, for health: reachable at the last attempt or not
 * (then conversations are kept on this replica only, until it answers again), and what it did.
 *
 * @param store     the store's name
 * @param reachable whether the last attempt to reach it worked
 * @param lastError why the last attempt failed; null when it worked
 * @param saved     snapshots written
 * @param loaded    conversations restored from it
 * @param misses    conversations it did not hold, or held as bytes that could not be restored
 * @param failures  attempts that could not reach it
 * @param evictions conversations the store let go to keep within its bound in bytes
 * @param refusals  snapshots the store refused for being larger than its whole bound
 */
public record SessionStoreStatus(String store, boolean reachable, String lastError, long saved, long loaded,
                                 long misses, long failures, long evictions, long refusals) {
}
