package io.kvcache.core.kv;

/** What a cached token is, for the policies that keep tokens by kind (FastGen's special and punctuation sets). */
public enum TokenClass {
    /** Control tokens of the vocabulary (BOS, EOS, chat-template markers). */
    SPECIAL,
    /** Tokens made only of punctuation and line breaks (spaces around them allowed). */
    PUNCTUATION,
    ORDINARY
}
