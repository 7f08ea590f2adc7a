package io.kvcache.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style tokenization as llama.cpp does it for "llama" vocabularies: spaces become
 * '▁' (with one prepended at the start of the text and after each special token when
 * add_space_prefix is set), then, starting from single code points, the adjacent pair whose
 * concatenation is the vocabulary entry with the highest score is merged (leftmost among equal
 * scores) until no pair forms a token. Code points left without a token are written as byte tokens.
 */
final class SpmEncoder implements FragmentEncoder {
    private final Vocabulary vocabulary;
    private final boolean addSpacePrefix;

    SpmEncoder(Vocabulary vocabulary, boolean addSpacePrefix) {
        this.vocabulary = vocabulary;
        this.addSpacePrefix = addSpacePrefix;
    }

    /** A possible merge of the symbols {@code left} and {@code right}, valid while their combined length is {@code length}. */
    private record Candidate(float score, int left, int right, int length) {
    }

    @Override
    public void encode(String fragment, boolean atStartOrAfterSpecial, IntList out) {
        String text = (addSpacePrefix && atStartOrAfterSpecial ? " " + fragment : fragment).replace(' ', '\u2581');
        int n = text.length();
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int count = 0;
        for (int i = 0; i < n; i += length[count - 1]) {
            start[count] = i;
            length[count] = Character.charCount(text.codePointAt(i));
            prev[count] = count - 1;
            next[count] = i + length[count] < n ? count + 1 : -1;
            count++;
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(Math.max(1, count), (a, b) ->
                a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < count; i++) {
            offer(queue, text, start, length, i - 1, i);
        }
        while (!queue.isEmpty()) {
            Candidate c = queue.poll();
            if (length[c.left] == 0 || length[c.right] == 0 || length[c.left] + length[c.right] != c.length) {
                continue; // one side has merged since this candidate was queued
            }
            length[c.left] += length[c.right];
            length[c.right] = 0;
            next[c.left] = next[c.right];
            if (next[c.right] >= 0) {
                prev[next[c.right]] = c.left;
            }
            if (prev[c.left] >= 0) {
                offer(queue, text, start, length, prev[c.left], c.left);
            }
            if (next[c.left] >= 0) {
                offer(queue, text, start, length, c.left, next[c.left]);
            }
        }
        for (int i = 0; i >= 0 && count > 0; i = next[i]) {
            emit(text.substring(start[i], start[i] + length[i]), out);
        }
    }

    private void offer(PriorityQueue<Candidate> queue, String text, int[] start, int[] length, int left, int right) {
        int total = length[left] + length[right];
        int id = vocabulary.id(text.substring(start[left], start[left] + total));
        if (id >= 0) {
            queue.add(new Candidate(vocabulary.score(id), left, right, total));
        }
    }

    /** A final symbol: its token, or (only a single code point can lack one) its UTF-8 bytes as byte tokens. */
    private void emit(String symbol, IntList out) {
        int id = vocabulary.id(symbol);
        if (id >= 0) {
            out.add(id);
            return;
        }
        for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
            int byteId = vocabulary.byteToken(b & 0xFF);
            if (byteId < 0) {
                throw TokenizationException.unencodable(symbol.codePointAt(0));
            }
            out.add(byteId);
        }
    }
}
