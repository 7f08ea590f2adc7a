package io.kvcache.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Cuts text at occurrences of special tokens, as llama.cpp's tokenizer_st_partition does: the
 * tokens are tried longest first (UTF-8 length), each one over every remaining text fragment, so a
 * longer token wins over a shorter one it contains. Tokens with lstrip / rstrip swallow the ASCII
 * whitespace before / after them.
 */
final class SpecialTokenSplitter {
    private final Vocabulary vocabulary;
    private final int[] candidates;
    private final BitSet lstrip;
    private final BitSet rstrip;

    /** {@code candidates}: the ids that may be matched; {@code lstrip}/{@code rstrip}: ids with those attributes. */
    SpecialTokenSplitter(Vocabulary vocabulary, int[] candidates, BitSet lstrip, BitSet rstrip) {
        this.vocabulary = vocabulary;
        this.candidates = IntStream.of(candidates).filter(id -> !vocabulary.text(id).isEmpty()).boxed()
                .sorted(Comparator.<Integer>comparingInt(id -> -vocabulary.text(id).getBytes(StandardCharsets.UTF_8).length)
                        .thenComparingInt(id -> id))
                .mapToInt(Integer::intValue).toArray();
        this.lstrip = lstrip;
        this.rstrip = rstrip;
    }

    /** The special tokens of a llama.cpp vocabulary: every CONTROL, USER_DEFINED and UNKNOWN token. */
    static int[] llamaSpecialTokens(Vocabulary vocabulary) {
        return IntStream.range(0, vocabulary.size()).filter(id -> switch (vocabulary.type(id)) {
            case CONTROL, USER_DEFINED, UNKNOWN -> true;
            default -> false;
        }).toArray();
    }

    /**
     * Splits {@code text}. Without {@code parseSpecial} only USER_DEFINED tokens are matched (llama.cpp
     * and HF tokenizers both pre-split user-defined tokens regardless).
     */
    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(Fragment.text(text));
        for (int id : candidates) {
            if (!parseSpecial && vocabulary.type(id) != TokenType.USER_DEFINED) {
                continue;
            }
            List<Fragment> next = new ArrayList<>(fragments.size() + 2);
            for (Fragment fragment : fragments) {
                if (fragment.isText()) {
                    splitOn(fragment.text(), id, next);
                } else {
                    next.add(fragment);
                }
            }
            fragments = next;
        }
        return fragments;
    }

    private void splitOn(String text, int id, List<Fragment> out) {
        String special = vocabulary.text(id);
        int from = 0;
        while (true) {
            int match = text.indexOf(special, from);
            if (match < 0) {
                if (from < text.length()) {
                    out.add(Fragment.text(text.substring(from)));
                }
                return;
            }
            int leftEnd = match;
            if (lstrip.get(id)) {
                while (leftEnd > from && isAsciiSpace(text.charAt(leftEnd - 1))) {
                    leftEnd--;
                }
            }
            if (leftEnd > from) {
                out.add(Fragment.text(text.substring(from, leftEnd)));
            }
            out.add(Fragment.token(id));
            from = match + special.length();
            if (rstrip.get(id)) {
                while (from < text.length() && isAsciiSpace(text.charAt(from))) {
                    from++;
                }
            }
        }
    }

    /** The texts this splitter matches only with parseSpecial (those it matches always need no mark). */
    List<String> parseSpecialTexts() {
        return IntStream.of(candidates).filter(id -> vocabulary.type(id) != TokenType.USER_DEFINED)
                .mapToObj(vocabulary::text).toList();
    }

    /** C's isspace in the "C" locale, which llama.cpp uses for stripping. */
    private static boolean isAsciiSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
