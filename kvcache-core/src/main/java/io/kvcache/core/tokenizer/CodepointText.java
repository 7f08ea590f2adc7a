package io.kvcache.core.tokenizer;

/**
 * Text as Unicode code points, the unit llama.cpp's pre-tokenizers work in, with the per-code-point
 * flags and the category-collapsed form computed once when a splitter first needs them.
 */
final class CodepointText {
    private final int[] codepoints;
    private int[] flags;
    private String collapsed;

    CodepointText(String text) {
        // Unpaired surrogates cannot come from UTF-8 input; llama.cpp would see U+FFFD there.
        this.codepoints = text.codePoints().map(cp -> cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp).toArray();
    }

    int length() {
        return codepoints.length;
    }

    int[] codepoints() {
        return codepoints;
    }

    int codepoint(int index) {
        return codepoints[index];
    }

    int flags(int index) {
        if (flags == null) {
            int[] computed = new int[codepoints.length];
            for (int i = 0; i < computed.length; i++) {
                computed[i] = CodepointFlags.of(codepoints[i]);
            }
            flags = computed;
        }
        return flags[index];
    }

    /**
     * One char per code point: ASCII stays itself, other whitespace becomes U+000B and every other
     * code point a stand-in for its category (U+00D1 number, U+00D2 letter, U+00D3 punctuation,
     * U+00D4 mark, U+00D5 symbol, U+00D0 anything else). llama.cpp runs the non-custom pre-tokenizer
     * regexes on exactly this form, with \p{..} rewritten to match the stand-ins.
     */
    String collapsed() {
        if (collapsed == null) {
            char[] chars = new char[codepoints.length];
            for (int i = 0; i < chars.length; i++) {
                int cp = codepoints[i];
                if (cp < 0x80) {
                    chars[i] = (char) cp;
                    continue;
                }
                int f = flags(i);
                chars[i] = (f & CodepointFlags.WHITESPACE) != 0 ? '\u000B' : switch (f & CodepointFlags.CATEGORIES) {
                    case CodepointFlags.NUMBER -> '\u00D1';
                    case CodepointFlags.LETTER -> '\u00D2';
                    case CodepointFlags.PUNCTUATION -> '\u00D3';
                    case CodepointFlags.MARK -> '\u00D4';
                    case CodepointFlags.SYMBOL -> '\u00D5';
                    default -> '\u00D0';
                };
            }
            collapsed = new String(chars);
        }
        return collapsed;
    }
}
