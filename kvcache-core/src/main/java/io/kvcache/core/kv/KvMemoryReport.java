package io.kvcache.core.kv;

import java.util.List;

/**
 * The memory of a sequence's KV cache, head by head, and the totals summed from those heads.
 *
 * @param tokens    tokens of the sequence so far
 * @param heads     one entry per layer and KV head, layer-major
 * @param bytesHeld sum of the heads' bytes held
 * @param fullBytes sum of the heads' full-cache bytes
 */
public record KvMemoryReport(int tokens, List<HeadMemory> heads, long bytesHeld, long fullBytes) {

    /** The report of {@code heads}, with the totals summed from them. */
    public static KvMemoryReport of(int tokens, List<HeadMemory> heads) {
        long held = 0;
        long full = 0;
        for (HeadMemory head : heads) {
            held += head.bytesHeld();
            full += head.fullBytes();
        }
        return new KvMemoryReport(tokens, List.copyOf(heads), held, full);
    }

    /** Heads the quality guardrail has moved, summed over the heads. */
    public int guardrailMoves() {
        int moves = 0;
        for (HeadMemory head : heads) {
            moves += head.moves();
        }
        return moves;
    }

    public long savedBytes() {
        return fullBytes - bytesHeld;
    }

    /** Held / full (1 for an empty cache). */
    public double ratio() {
        return fullBytes == 0 ? 1 : (double) bytesHeld / fullBytes;
    }
}
