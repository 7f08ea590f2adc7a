package io.kvcache.core.tokenizer;

import java.nio.charset.StandardCharsets;

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

    @Override
    public void encode(String fragment, boolean atStartOrAfterSpecial, IntList out) {
        String text = (addSpacePrefix && atStartOrAfterSpecial ? " " + fragment : fragment).replace(' ', '\u2581');
        IntList symbols = SymbolMerger.merge(text, this::rank);
        int at = 0;
        for (int s = 0; s < symbols.size(); s++) {
            emit(text.substring(at, at + symbols.get(s)), out);
            at += symbols.get(s);
        }
    }

    /** The higher the score of the token the pair forms, the earlier it merges. */
    private double rank(String text, int leftStart, int rightStart, int rightEnd) {
        int id = vocabulary.id(text.substring(leftStart, rightEnd));
        return id < 0 ? SymbolMerger.NO_MERGE : -(double) vocabulary.score(id);
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
