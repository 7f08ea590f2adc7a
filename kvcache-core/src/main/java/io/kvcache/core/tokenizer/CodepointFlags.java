package io.kvcache.core.tokenizer;

/**
 * The Unicode classes llama.cpp's pre-tokenizers test (its unicode_cpt_flags): the general
 * category folded to letter / number / mark / punctuation / symbol / separator / control /
 * undefined, and White_Space membership. llama.cpp builds its tables from UnicodeData.txt; the JDK's
 * tables come from the same data, so the categories agree except for characters assigned by a newer
 * Unicode version than llama.cpp's tables.
 */
final class CodepointFlags {
    static final int UNDEFINED = 0x01;
    static final int NUMBER = 0x02;
    static final int LETTER = 0x04;
    static final int SEPARATOR = 0x08;
    static final int MARK = 0x10;
    static final int PUNCTUATION = 0x20;
    static final int SYMBOL = 0x40;
    static final int CONTROL = 0x80;
    static final int CATEGORIES = 0xFF;
    static final int WHITESPACE = 0x100;

    private CodepointFlags() {
    }

    static int of(int codepoint) {
        int category = switch (Character.getType(codepoint)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            case Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.CONNECTOR_PUNCTUATION, Character.OTHER_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            default -> UNDEFINED;
        };
        return isWhitespace(codepoint) ? category | WHITESPACE : category;
    }

    /** The Unicode White_Space property (PropList.txt), which llama.cpp uses for \s. */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }
}
