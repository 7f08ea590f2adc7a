package io.kvcache.core.tokenizer;

/**
 * Where a piece of text given to a tokenizer.json normalizer or pre-tokenizer begins, which decides
 * whether it gets a prefix space.
 */
enum TextStart {
    /** The piece begins the input: every prefix rule applies, Metaspace's prepend_scheme "first" only here. */
    INPUT,
    /**
     * The piece follows an added token or other text of the same input: the rules that apply to every
     * piece do (a Prepend normalizer, ByteLevel's add_prefix_space, Metaspace's "always").
     */
    INSIDE_INPUT,
    /** The piece continues text encoded earlier: its first word gets no prefix, as it does not start a text. */
    CONTINUATION
}
