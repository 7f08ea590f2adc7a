package io.kvcache.core.tokenizer;

import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Ranked BPE merge rules and the merge loop: repeatedly join the adjacent pair with the lowest
 * rank (the leftmost among equals) until no adjacent pair has a rule, like llama.cpp's
 * llm_tokenizer_bpe_session and HF tokenizers' BPE model.
 */
final class BpeMerges {
    private final Map<String, Integer> ranks;

    private BpeMerges(Map<String, Integer> ranks) {
        this.ranks = ranks;
    }

    /**
     * Rules as GGUF and older tokenizer.json files store them, "left right", the rank being the
     * position; the halves are separated at the first space after the first character (as llama.cpp
     * reads them). The first of duplicate rules wins.
     */
    static BpeMerges fromPairs(String[] rules) {
        Map<String, Integer> ranks = HashMap.newHashMap(rules.length);
        for (int i = 0; i < rules.length; i++) {
            ranks.putIfAbsent(rules[i], i);
        }
        return new BpeMerges(ranks);
    }

    private int rank(String word, int leftStart, int rightStart, int rightEnd) {
        String key = word.substring(leftStart, rightStart) + ' ' + word.substring(rightStart, rightEnd);
        Integer rank = ranks.get(key);
        return rank == null ? -1 : rank;
    }

    /** A possible merge of the symbols starting at {@code left} and {@code right}, valid while both keep these lengths. */
    private record Candidate(int rank, int left, int right, int leftLength, int rightLength) {
    }

    /** Merges {@code word}, whose initial symbols are its code points; returns the lengths in chars of the final symbols. */
    IntList merge(String word) {
        int n = word.length();
        int[] start = new int[n];
        int[] length = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        int count = 0;
        for (int i = 0; i < n; i += length[count - 1]) {
            start[count] = i;
            length[count] = Character.charCount(word.codePointAt(i));
            prev[count] = count - 1;
            next[count] = i + length[count] < n ? count + 1 : -1;
            count++;
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(Math.max(1, count),
                (a, b) -> a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < count; i++) {
            offer(queue, word, start, length, i - 1, i);
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
                offer(queue, word, start, length, prev[c.left], c.left);
            }
            if (next[c.left] >= 0) {
                offer(queue, word, start, length, c.left, next[c.left]);
            }
        }
        IntList lengths = new IntList(count);
        for (int i = 0; i >= 0 && count > 0; i = next[i]) {
            lengths.add(length[i]);
        }
        return lengths;
    }

    private void offer(PriorityQueue<Candidate> queue, String word, int[] start, int[] length, int left, int right) {
        int rank = rank(word, start[left], start[right], start[right] + length[right]);
        if (rank >= 0) {
            queue.add(new Candidate(rank, left, right, length[left], length[right]));
        }
    }
}
