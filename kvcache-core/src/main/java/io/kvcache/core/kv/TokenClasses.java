package io.kvcache.core.kv;

import io.kvcache.core.tokenizer.TokenType;
import io.kvcache.core.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The {@link TokenClass} of every id of a vocabulary. */
public final class TokenClasses {
    private final TokenClass[] classes;

    private TokenClasses(TokenClass[] classes) {
        this.classes = classes;
    }

    /** Every token ordinary: for caches whose policy does not look at token kinds. */
    public static TokenClasses ordinary(int vocabularySize) {
        TokenClass[] classes = new TokenClass[vocabularySize];
        Arrays.fill(classes, TokenClass.ORDINARY);
        return new TokenClasses(classes);
    }

    /**
     * Classes from a tokenizer: control tokens and the BOS/EOS/end-of-generation ids are special;
     * a token whose text (as output bytes, UTF-8) has at least one punctuation character or line
     * break and otherwise only spaces is punctuation.
     */
    public static TokenClasses of(Tokenizer tokenizer) {
        TokenClass[] classes = new TokenClass[tokenizer.vocabularySize()];
        for (int id = 0; id < classes.length; id++) {
            if (tokenizer.tokenType(id) == TokenType.CONTROL || id == tokenizer.bosId() || id == tokenizer.eosId()
                    || tokenizer.isEndOfGeneration(id)) {
                classes[id] = TokenClass.SPECIAL;
            } else if (isPunctuation(new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8))) {
                classes[id] = TokenClass.PUNCTUATION;
            } else {
                classes[id] = TokenClass.ORDINARY;
            }
        }
        return new TokenClasses(classes);
    }

    static boolean isPunctuation(String text) {
        boolean marks = false;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (c == '\n' || c == '\r' || isPunctuationCharacter(c)) {
                marks = true;
            } else if (c != ' ' && c != '\t') {
                return false;
            }
        }
        return marks;
    }

    private static boolean isPunctuationCharacter(int c) {
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** Classes given id by id (a copy is kept). */
    static TokenClasses of(TokenClass[] classes) {
        return new TokenClasses(classes.clone());
    }

    public TokenClass of(int id) {
        return classes[id];
    }
}
