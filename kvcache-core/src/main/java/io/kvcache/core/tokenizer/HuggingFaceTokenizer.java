package io.kvcache.core.tokenizer;

import java.util.List;

/**
 * A tokenizer.json tokenizer with HF tokenizers' pipeline: added tokens whose "normalized" flag is
 * off are split off the raw text, the rest is normalized, added tokens with the flag on are split
 * off the normalized text, and what remains is pre-tokenized into words and encoded by the BPE model.
 */
final class HuggingFaceTokenizer extends VocabularyTokenizer {
    private final SpecialTokenSplitter rawSplitter;
    private final HfNormalizer normalizer;
    private final SpecialTokenSplitter normalizedSplitter;
    private final HfPreTokenizer preTokenizer;
    private final HfBpeModel model;

    HuggingFaceTokenizer(Vocabulary vocabulary, SpecialTokens specials, byte[][] pieces,
                         SpecialTokenSplitter rawSplitter, HfNormalizer normalizer, SpecialTokenSplitter normalizedSplitter,
                         HfPreTokenizer preTokenizer, HfBpeModel model) {
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
        boolean atStart = true;
        for (Fragment raw : rawSplitter.split(withoutLoneSurrogates(text), parseSpecial)) {
            if (!raw.isText()) {
                out.add(raw.token());
                atStart = false;
                continue;
            }
            for (Fragment fragment : normalizedSplitter.split(normalizer.apply(raw.text()), parseSpecial)) {
                if (fragment.isText()) {
                    List<String> words = preTokenizer.words(fragment.text(), atStart);
                    for (String word : words) {
                        model.encode(word, out);
                    }
                } else {
                    out.add(fragment.token());
                }
                atStart = false;
            }
        }
        if (addSpecial && specials.addEos()) {
            out.add(specials.eos());
        }
        return out.toArray();
    }
}
