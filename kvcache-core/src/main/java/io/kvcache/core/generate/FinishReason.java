package io.kvcache.core.generate;

/** Why generation ended. */
public enum FinishReason {
    /** The model produced an end-of-generation token. */
    END_OF_GENERATION,
    /** A stop string appeared. */
    STOP_STRING,
    /** The maximum number of tokens was generated. */
    MAX_TOKENS,
    /** The sequence filled its context. */
    CONTEXT_FULL,
    /** The document a grammar constrains the output to is whole, and nothing may follow it. */
    DOCUMENT_COMPLETE,
    /** The caller's listener asked to stop. */
    CANCELLED
}
