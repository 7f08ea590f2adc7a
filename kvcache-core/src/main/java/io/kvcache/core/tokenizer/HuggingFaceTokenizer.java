package io.kvcache.core.tokenizer;

/**
 * A tokenizer.json tokenizer with HF tokenizers' pipeline: added tokens whose "normalized" flag is
 * off are split off the raw text, the rest is normalized, added tokens with the flag on are split
 * off the normalized text, and what remains is pre-tokenized into words and encoded by the BPE model.
 */
final class HuggingFaceTokenizer extends VocabularyTokenizer {
    private final SpecialTokenSplitter rawSplitter;
    private final HuggingFaceNormalizer normalizer;
    private final SpecialTokenSplitter normalizedSplitter;
    private final HuggingFacePreTokenizer preTokenizer;
    private final HuggingFaceBpeModel model;

    HuggingFaceTokenizer(Vocabulary vocabulary, SpecialTokens specials, byte[][] pieces,
                         SpecialTokenSplitter rawSplitter, HuggingFaceNormalizer normalizer, SpecialTokenSplitter normalizedSplitter,
                         HuggingFacePreTokenizer preTokenizer, HuggingFaceBpeModel model) {
        super(vocabulary, specials, pieces);
        this.rawSplitter = rawSplitter;
        this.normalizer = normalizer;
        this.normalizedSplitter = normalizedSplitter;
        this.preTokenizer = preTokenizer;
        this.model = model;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addSpecial && specials.addBos()) {
            out.add(specials.bos());
        }
        encodeFragments(text, parseSpecial, TextStart.INPUT, out);
        if (addSpecial && specials.addEos()) {
            out.add(specials.eos());
        }
        return out.toArray();
    }

    @Override
    public int[] encodeContinuation(String text, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        encodeFragments(text, parseSpecial, TextStart.CONTINUATION, out);
        return out.toArray();
    }

    @Override
    public String markSpecialAsText(String text) {
        return PlainTextMark.mark(text, java.util.stream.Stream.concat(rawSplitter.parseSpecialTexts().stream(),
                normalizedSplitter.parseSpecialTexts().stream()).toList());
    }

    /** {@code start}: where the text begins; every piece after the first is inside the input. */
    private void encodeFragments(String text, boolean parseSpecial, TextStart start, IntList out) {
        TextStart next = start;
        for (Fragment raw : rawSplitter.split(withoutLoneSurrogates(text), parseSpecial)) {
            if (!raw.isText()) {
                out.add(raw.token());
                next = TextStart.INSIDE_INPUT;
                continue;
            }
            // Marked text holds a message's special-token text: unmarked, it must not be parsed again.
            boolean marked = PlainTextMark.isMarked(raw.text());
            String plain = PlainTextMark.unmark(raw.text());
            for (Fragment fragment : normalizedSplitter.split(normalizer.apply(plain, next), parseSpecial && !marked)) {
                if (fragment.isText()) {
                    for (String word : preTokenizer.words(fragment.text(), next)) {
                        model.encode(word, out);
                    }
                } else {
                    out.add(fragment.token());
                }
                next = TextStart.INSIDE_INPUT;
            }
        }
    }
}
