package io.kvcache.core.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Byte-level BPE as llama.cpp does it for "gpt2" vocabularies: the pre-tokenizer cuts the text into
 * words, each word's UTF-8 bytes are mapped to {@link ByteLevel} characters and merged by rank; a
 * final symbol that is not a token is written byte by byte.
 */
final class ByteLevelBpeEncoder implements FragmentEncoder {
    private final Vocabulary vocabulary;
    private final BpeMerges merges;
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;

    /** {@code ignoreMerges}: a word that is itself a token is taken whole, without merging (Llama 3). */
    ByteLevelBpeEncoder(Vocabulary vocabulary, BpeMerges merges, PreTokenizer preTokenizer, boolean ignoreMerges) {
        this.vocabulary = vocabulary;
        this.merges = merges;
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;
    }

    @Override
    public void encode(String fragment, boolean atStartOrAfterSpecial, IntList out) {
        CodepointText text = new CodepointText(fragment);
        IntList words = preTokenizer.wordLengths(text);
        int start = 0;
        for (int w = 0; w < words.size(); w++) {
            int end = start + words.get(w);
            encodeWord(ByteLevel.encode(text.codepoints(), start, end), out);
            start = end;
        }
    }

    private void encodeWord(String word, IntList out) {
        merges.encode(word, vocabulary, ignoreMerges, out, (symbol, tokens) -> {
            for (int i = 0; i < symbol.length(); i++) {
                int byteId = vocabulary.id(symbol.substring(i, i + 1));
                if (byteId < 0) {
                    throw new TokenizationException("the vocabulary has no token for byte 0x"
                            + Integer.toHexString(ByteLevel.byteOf(symbol.charAt(i))) + " of the text '" + decoded(word) + "'");
                }
                tokens.add(byteId);
            }
        });
    }

    private static String decoded(String word) {
        byte[] bytes = new byte[word.length()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ByteLevel.byteOf(word.charAt(i));
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
