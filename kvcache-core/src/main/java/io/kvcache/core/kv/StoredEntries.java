package io.kvcache.core.kv;

/**
 * The entries of one {@link EntryClass} of a head, as stored: what a snapshot of a cache writes and
 * a restored cache reads back bit for bit. Rows are the storage's own bytes, row after row (fp16
 * little-endian, or the {@link LowBitRows} format with its scales inside each row).
 *
 * @param positions the position of each entry
 * @param attention the attention each entry has received, or null where the layout does not track it
 * @param bias      the logit bias of each entry (merged entries only), or null
 * @param keys      the key rows
 * @param values    the value rows
 */
public record StoredEntries(int[] positions, float[] attention, float[] bias, byte[] keys, byte[] values) {

    public int count() {
        return positions.length;
    }
}
