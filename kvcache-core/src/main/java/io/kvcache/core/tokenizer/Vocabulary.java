package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;

import java.util.HashMap;
import java.util.Map;

/** The token strings of a vocabulary with their types and scores, and the reverse map from string to id. */
final class Vocabulary {
    private final String[] texts;
    private final TokenType[] types;
    private final float[] scores;
    private final Map<String, Integer> ids;

    /** {@code source} names the file in error messages; the arrays are taken over, not copied. */
    Vocabulary(String source, String[] texts, TokenType[] types, float[] scores) {
        if (types.length != texts.length || scores.length != texts.length) {
            throw new ModelFormatException(source + ": vocabulary has " + texts.length + " tokens but "
                    + types.length + " token types and " + scores.length + " scores");
        }
        this.texts = texts;
        this.types = types;
        this.scores = scores;
        this.ids = HashMap.newHashMap(texts.length);
        for (int id = 0; id < texts.length; id++) {
            Integer previous = ids.putIfAbsent(texts[id], id);
            if (previous != null) {
                throw new ModelFormatException(source + ": duplicate token in vocabulary: '" + UntrustedText.quote(texts[id])
                        + "' has ids " + previous + " and " + id);
            }
        }
    }

    int size() {
        return texts.length;
    }

    String text(int id) {
        return texts[id];
    }

    TokenType type(int id) {
        return types[id];
    }

    float score(int id) {
        return scores[id];
    }

    /** The id of the token with exactly this text, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    boolean contains(int id) {
        return id >= 0 && id < texts.length;
    }

    /** The SPM byte-fallback token for {@code b}: {@code <0xNN>}, else a token that is that single (ASCII) byte; -1 if neither exists. */
    int byteToken(int b) {
        int id = id(String.format("<0x%02X>", b));
        if (id < 0 && b < 0x80) {
            id = id(Character.toString(b));
        }
        return id;
    }

    /** The byte a {@code <0xNN>} token stands for. */
    int byteValue(int id) {
        String text = texts[id];
        try {
            return Integer.parseInt(text.substring(3, 5), 16);
        } catch (RuntimeException e) {
            throw new ModelFormatException("byte token " + id + " '" + text + "' is not of the form <0xNN>");
        }
    }
}
