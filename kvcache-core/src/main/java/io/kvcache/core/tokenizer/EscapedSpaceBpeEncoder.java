package io.kvcache.core.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * BPE over SentencePiece-style text, as llama.cpp does it for "gemma4" vocabularies: spaces become
 * '▁', the text is cut only into runs of newlines and runs of everything else, a run of newlines
 * that is itself a token is taken whole, and every other run is merged by rank from its code points
 * (raw characters, not byte-level ones). A final symbol without a token is written as its UTF-8
 * bytes' {@code <0xNN>} tokens.
 */
final class EscapedSpaceBpeEncoder implements FragmentEncoder {
    private final Vocabulary vocabulary;
    private final BpeMerges merges;

    EscapedSpaceBpeEncoder(Vocabulary vocabulary, BpeMerges merges) {
        this.vocabulary = vocabulary;
        this.merges = merges;
    }

    @Override
    public void encode(String fragment, boolean atStartOrAfterSpecial, IntList out) {
        String text = fragment.replace(' ', '\u2581');
        int start = 0;
        while (start < text.length()) {
            boolean newlines = text.charAt(start) == '\n';
            int end = start;
            while (end < text.length() && (text.charAt(end) == '\n') == newlines) {
                end++;
            }
            String run = text.substring(start, end);
            int whole = newlines ? vocabulary.id(run) : -1;
            if (whole >= 0) {
                out.add(whole);
            } else {
                merges.encode(run, vocabulary, false, out, this::writeBytes);
            }
            start = end;
        }
    }

    private void writeBytes(String symbol, IntList out) {
        for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
            int id = vocabulary.byteToken(b & 0xFF);
            if (id < 0) {
                throw TokenizationException.unencodable(symbol.codePointAt(0));
            }
            out.add(id);
        }
    }
}
