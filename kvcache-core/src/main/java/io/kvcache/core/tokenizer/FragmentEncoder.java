package io.kvcache.core.tokenizer;

/** Turns one plain-text fragment (text between special tokens) into token ids. */
interface FragmentEncoder {
    /**
     * @param atStartOrAfterSpecial the fragment begins the input or follows a special token (SPM
     *                              adds its space prefix there)
     */
    void encode(String fragment, boolean atStartOrAfterSpecial, IntList out);
}
