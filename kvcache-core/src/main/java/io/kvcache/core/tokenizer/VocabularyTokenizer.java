package io.kvcache.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** What every tokenizer answers from its vocabulary alone: pieces, decoding, special ids and token facts. */
abstract class VocabularyTokenizer implements Tokenizer {
    final Vocabulary vocabulary;
    final SpecialTokens specials;
    private final byte[][] pieces;

    VocabularyTokenizer(Vocabulary vocabulary, SpecialTokens specials, byte[][] pieces) {
        this.vocabulary = vocabulary;
        this.specials = specials;
        this.pieces = pieces;
    }

    @Override
    public byte[] tokenBytes(int id) {
        return piece(id).clone();
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            out.writeBytes(piece(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private byte[] piece(int id) {
        checkId(id);
        return pieces[id];
    }

    @Override
    public int vocabularySize() {
        return vocabulary.size();
    }

    @Override
    public int bosId() {
        return specials.bos();
    }

    @Override
    public int eosId() {
        return specials.eos();
    }

    @Override
    public boolean addsBos() {
        return specials.addBos();
    }

    @Override
    public boolean addsEos() {
        return specials.addEos();
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && specials.endOfGeneration().get(id);
    }

    @Override
    public TokenType tokenType(int id) {
        checkId(id);
        return vocabulary.type(id);
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return vocabulary.text(id);
    }

    private void checkId(int id) {
        if (!vocabulary.contains(id)) {
            throw new IndexOutOfBoundsException("token id " + id + " is outside the vocabulary of " + vocabulary.size());
        }
    }

    /** Java strings may hold unpaired surrogates, which UTF-8 input cannot; they are read as U+FFFD. */
    static String withoutLoneSurrogates(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1)))) {
                StringBuilder fixed = new StringBuilder(text.length());
                text.codePoints().forEach(cp -> fixed.appendCodePoint(cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp));
                return fixed.toString();
            }
            if (Character.isHighSurrogate(c)) {
                i++;
            }
        }
        return text;
    }
}
