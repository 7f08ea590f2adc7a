package io.kvcache.core.kv;

/**
 * Entries one head holds in each storage class.
 *
 * @param kept         entries held as computed
 * @param lowPrecision entries demoted to low precision
 * @param merged       merged entries standing for spans of tokens
 * @param keptRuns     runs of consecutive positions among the kept entries (what their positions
 *                     cost where the layout stores runs, see {@link StorageLayout#positionRuns()})
 */
public record EntryCounts(int kept, int lowPrecision, int merged, int keptRuns) {

    /** Counts whose kept entries may be anywhere: as many runs as entries. */
    public EntryCounts(int kept, int lowPrecision, int merged) {
        this(kept, lowPrecision, merged, kept);
    }
}
