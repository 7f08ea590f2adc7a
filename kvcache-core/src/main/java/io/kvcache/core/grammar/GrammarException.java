package io.kvcache.core.grammar;

import io.kvcache.core.UntrustedText;

/** A grammar or JSON schema that cannot be compiled, or a constrained generation that cannot go on; the message says why. */
public class GrammarException extends IllegalArgumentException {
    public GrammarException(String message) {
        super(message);
    }

    /** Text from a grammar or schema, shortened, escaped and in quotes, for a message. */
    static String quoted(String text) {
        return "\"" + UntrustedText.quote(text) + "\"";
    }
}
