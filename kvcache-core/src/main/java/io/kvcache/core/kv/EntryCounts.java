package io.kvcache.core.kv;

/**
 * Entries one head holds in each storage class.
 *
 * @param kept         entries held as computed
 * @param lowPrecision entries demoted to low precision
 * @param merged       merged entries standing for spans of tokens
 */
public record EntryCounts(int kept, int lowPrecision, int merged) {
}
