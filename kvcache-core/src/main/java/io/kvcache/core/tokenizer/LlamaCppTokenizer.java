package io.kvcache.core.tokenizer;

/**
 * A tokenizer with llama.cpp's pipeline: split off special tokens, encode each text fragment (SPM
 * or byte-level BPE), add BOS/EOS as the vocabulary asks.
 */
final class LlamaCppTokenizer extends VocabularyTokenizer {
    private final SpecialTokenSplitter splitter;
    private final FragmentEncoder encoder;

    LlamaCppTokenizer(Vocabulary vocabulary, SpecialTokens specials, byte[][] pieces,
                      SpecialTokenSplitter splitter, FragmentEncoder encoder) {
        super(vocabulary, specials, pieces);
        this.splitter = splitter;
        this.encoder = encoder;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addSpecial && specials.addBos()) {
            out.add(specials.bos());
        }
        encodeFragments(text, parseSpecial, true, out);
        if (addSpecial && specials.addEos()) {
            out.add(specials.eos());
        }
        return out.toArray();
    }

    @Override
    public int[] encodeContinuation(String text, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        encodeFragments(text, parseSpecial, false, out);
        return out.toArray();
    }

    @Override
    public String markSpecialAsText(String text) {
        return PlainTextMark.mark(text, splitter.parseSpecialTexts());
    }

    /** {@code atInputStart}: the text begins the input, where SPM adds its space prefix as after a special token. */
    private void encodeFragments(String text, boolean parseSpecial, boolean atInputStart, IntList out) {
        boolean afterSpecial = atInputStart;
        for (Fragment fragment : splitter.split(withoutLoneSurrogates(text), parseSpecial)) {
            if (fragment.isText()) {
                encoder.encode(PlainTextMark.unmark(fragment.text()), afterSpecial, out);
                afterSpecial = false;
            } else {
                out.add(fragment.token());
                afterSpecial = true;
            }
        }
    }
}
