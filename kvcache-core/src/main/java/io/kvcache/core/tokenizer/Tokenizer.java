package io.kvcache.core.tokenizer;

/**
 * Text to token ids and back, behaving like llama.cpp's tokenizer for the same vocabulary.
 * Instances are immutable and safe to share between threads.
 */
public interface Tokenizer {
    /**
     * Token ids for {@code text}.
     *
     * @param addSpecial   add BOS/EOS as the vocabulary's add_bos/add_eos flags say
     * @param parseSpecial text of special tokens (CONTROL, USER_DEFINED...) becomes those tokens;
     *                     otherwise it is tokenized as plain text (USER_DEFINED tokens are still
     *                     matched, as in llama.cpp)
     * @throws TokenizationException naming the offending character when the vocabulary cannot encode the text
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * Token ids for {@code text} that continues a text already encoded, such as a prompt extended by
     * more messages: no BOS/EOS, and the start of {@code text} is not the start of an input, so no
     * prefix space is added there (SentencePiece's dummy prefix, a Prepend normalizer, ByteLevel's
     * add_prefix_space, Metaspace's prepend scheme). After a special token the rules of
     * {@link #encode} apply again. Appended to the ids of the text before it, the result spells the
     * two texts joined, though not always with the ids one {@link #encode} of the joined text gives
     * (a word cut at the join stays cut).
     *
     * @param parseSpecial as for {@link #encode}
     * @throws TokenizationException naming the offending character when the vocabulary cannot encode the text
     */
    int[] encodeContinuation(String text, boolean parseSpecial);

    /**
     * {@code text} marked so that, inside a text encoded with {@code parseSpecial}, it stays plain
     * text: the special tokens it spells are encoded as their characters, as with
     * {@code parseSpecial} false (user-defined tokens are matched either way). A chat template marks
     * every message this way, so only the template's own text produces control tokens. Unmarked
     * text around it is parsed as before; the marks spell nothing.
     */
    String markSpecialAsText(String text);

    /**
     * Bytes that token {@code id} stands for in output (llama.cpp token_to_piece with special=true:
     * control tokens as their text, SPM ▁ as a space, byte tokens {@code <0xNN>} as that byte,
     * byte-level BPE unmapped back to raw bytes). The array is a copy.
     */
    byte[] tokenBytes(int id);

    /** Concatenated {@link #tokenBytes} decoded as UTF-8 (malformed sequences replaced), like llama.cpp /detokenize. */
    String decode(int[] ids);

    int vocabularySize();

    /** -1 when the vocabulary has none. */
    int bosId();

    /** -1 when the vocabulary has none. */
    int eosId();

    boolean addsBos();

    boolean addsEos();

    /** True for end-of-generation tokens: eos, eot, eom and the usual end markers, as llama.cpp's special_eog_ids. */
    boolean isEndOfGeneration(int id);

    TokenType tokenType(int id);

    /** The raw vocabulary string. */
    String tokenText(int id);
}
