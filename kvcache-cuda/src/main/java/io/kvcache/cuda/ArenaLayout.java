package io.kvcache.cuda;

/**
 * Offsets of the pieces of one device allocation: each piece starts at a multiple of
 * {@link #ALIGNMENT} (what cuMemAlloc guarantees for the allocation itself, so every piece reads
 * with aligned, coalesced loads), or directly after the previous one when it must be contiguous
 * with it (the q, k and v weights read by one launch).
 */
final class ArenaLayout {
    static final long ALIGNMENT = 256;

    private long size;

    /** Places {@code bytes} at the next aligned offset and returns that offset. */
    long place(long bytes) {
        long offset = align(size);
        size = offset + bytes;
        return offset;
    }

    /** Places {@code bytes} right after the previous piece. */
    long placeAdjacent(long bytes) {
        long offset = size;
        size = offset + bytes;
        return offset;
    }

    /** Bytes from the start to the end of the last piece. */
    long size() {
        return size;
    }

    static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }
}
