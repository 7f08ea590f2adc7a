package io.kvcache.core.tokenizer;

import java.util.PriorityQueue;

/**
 * The merge loop that BPE and SentencePiece share: starting from single code points, repeatedly
 * join the adjacent pair that ranks first (the leftmost among equals) until no adjacent pair may
 * merge. The two differ only in how a pair ranks, which the caller gives as a {@link PairRank}.
 */
final class SymbolMerger {
    /** How a pair of adjacent symbols ranks; a lower value merges first. */
    @FunctionalInterface
    interface PairRank {
        /** {@link #NO_MERGE} where the pair {@code text[leftStart, rightStart) + text[rightStart, rightEnd)} may not merge. */
        double of(String text, int leftStart, int rightStart, int rightEnd);
    }

    static final double NO_MERGE = Double.NaN;

    private SymbolMerger() {
    }

    /** A possible merge of the symbols starting at {@code left} and {@code right}, valid while both keep these lengths. */
    private record Candidate(double rank, int left, int right, int leftLength, int rightLength) {
    }

    /** Merges {@code text}; returns the lengths in chars of the final symbols, in order. */
    static IntList merge(String text, PairRank pairRank) {
        int n = text.length();
        int[] start = new int[n];
        int[] length = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        int count = 0;
        for (int i = 0; i < n; i += length[count - 1]) {
            start[count] = i;
            length[count] = Character.charCount(text.codePointAt(i));
            prev[count] = count - 1;
            next[count] = i + length[count] < n ? count + 1 : -1;
            count++;
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(Math.max(1, count),
                (a, b) -> a.rank != b.rank ? Double.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < count; i++) {
            offer(queue, pairRank, text, start, length, i - 1, i);
        }
        while (!queue.isEmpty()) {
            Candidate c = queue.poll();
            if (length[c.left] != c.leftLength || length[c.right] != c.rightLength || length[c.right] == 0) {
                continue; // one side has merged since this candidate was queued
            }
            length[c.left] += length[c.right];
            length[c.right] = 0;
            next[c.left] = next[c.right];
            if (next[c.right] >= 0) {
                prev[next[c.right]] = c.left;
            }
            if (prev[c.left] >= 0) {
                offer(queue, pairRank, text, start, length, prev[c.left], c.left);
            }
            if (next[c.left] >= 0) {
                offer(queue, pairRank, text, start, length, c.left, next[c.left]);
            }
        }
        IntList lengths = new IntList(count);
        for (int i = 0; i >= 0 && count > 0; i = next[i]) {
            lengths.add(length[i]);
        }
        return lengths;
    }

    private static void offer(PriorityQueue<Candidate> queue, PairRank pairRank, String text, int[] start, int[] length,
                              int left, int right) {
        double rank = pairRank.of(text, start[left], start[right], start[right] + length[right]);
        if (!Double.isNaN(rank)) {
            queue.add(new Candidate(rank, left, right, length[left], length[right]));
        }
    }
}
