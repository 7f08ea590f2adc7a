package io.kvcache.core.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The "BPE" model of tokenizer.json: a word is merged by rank from single characters; a character
 * without a token becomes its UTF-8 byte tokens {@code <0xNN>} when byte_fallback is on and they
 * exist. Where HF would emit the unknown token instead, this throws {@link TokenizationException},
 * like llama.cpp does for the same vocabulary.
 */
final class HuggingFaceBpeModel {
    private final Vocabulary vocabulary;
    private final BpeMerges merges;
    private final boolean byteFallback;
    private final boolean ignoreMerges;

    HuggingFaceBpeModel(Vocabulary vocabulary, BpeMerges merges, boolean byteFallback, boolean ignoreMerges) {
        this.vocabulary = vocabulary;
        this.merges = merges;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
    }

    void encode(String word, IntList out) {
        merges.encode(word, vocabulary, ignoreMerges, out,
                (symbol, tokens) -> symbol.codePoints().forEach(cp -> encodeCharacter(cp, tokens)));
    }

    private void encodeCharacter(int codepoint, IntList out) {
        String character = Character.toString(codepoint);
        int id = vocabulary.id(character);
        if (id >= 0) {
            out.add(id);
            return;
        }
        if (byteFallback) {
            byte[] utf8 = character.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[utf8.length];
            boolean complete = true;
            for (int i = 0; i < utf8.length; i++) {
                ids[i] = vocabulary.id(String.format("<0x%02X>", utf8[i] & 0xFF));
                complete &= ids[i] >= 0;
            }
            if (complete) {
                for (int byteId : ids) {
                    out.add(byteId);
                }
                return;
            }
        }
        throw TokenizationException.unencodable(codepoint);
    }
}
