package io.kvcache.core.tokenizer;

/** A piece of the input after special-token splitting: either plain text or one special token. */
record Fragment(String text, int token) {
    static Fragment text(String text) {
        return new Fragment(text, -1);
    }

    static Fragment token(int id) {
        return new Fragment(null, id);
    }

    boolean isText() {
        return text != null;
    }
}
