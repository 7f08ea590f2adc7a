package io.kvcache.core.tokenizer;

/** Text that the vocabulary cannot encode; the message names the offending character. */
public class TokenizationException extends IllegalArgumentException {
    public TokenizationException(String message) {
        super(message);
    }

    static TokenizationException unencodable(int codepoint) {
        return new TokenizationException(String.format(
                "the vocabulary cannot encode the character '%s' (U+%04X): it has no token for it and no byte-fallback tokens",
                Character.toString(codepoint), codepoint));
    }
}
