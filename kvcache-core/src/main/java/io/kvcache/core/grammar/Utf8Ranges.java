package io.kvcache.core.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * A range of code points as the byte sequences that spell them in UTF-8: each sequence is a list of
 * byte ranges, one per byte, so a character class becomes a few alternatives of byte terminals.
 * Surrogates (U+D800 to U+DFFF) are left out, as UTF-8 cannot spell them.
 */
final class Utf8Ranges {
    /** One byte-range sequence: {@code lo[i]..hi[i]} for the i-th byte. */
    record Sequence(int[] lo, int[] hi) {
    }

    private static final int[] LENGTH_ENDS = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};

    private Utf8Ranges() {
    }

    static List<Sequence> of(int lo, int hi) {
        List<Sequence> out = new ArrayList<>();
        if (lo <= 0xD7FF) {
            split(lo, Math.min(hi, 0xD7FF), out);
        }
        if (hi >= 0xE000) {
            split(Math.max(lo, 0xE000), hi, out);
        }
        return out;
    }

    private static void split(int lo, int hi, List<Sequence> out) {
        if (lo > hi) {
            return;
        }
        // Cut where the encoded length changes.
        for (int end : LENGTH_ENDS) {
            if (lo <= end && hi > end) {
                split(lo, end, out);
                split(end + 1, hi, out);
                return;
            }
        }
        int length = length(lo);
        // Cut where a continuation byte would otherwise not run over its whole range: below each
        // byte position, the range must either cover every value or stay within one prefix.
        for (int i = 1; i < length; i++) {
            int mask = (1 << (6 * i)) - 1;
            if ((lo & ~mask) != (hi & ~mask)) {
                if ((lo & mask) != 0) {
                    split(lo, lo | mask, out);
                    split((lo | mask) + 1, hi, out);
                    return;
                }
                if ((hi & mask) != mask) {
                    split(lo, (hi & ~mask) - 1, out);
                    split(hi & ~mask, hi, out);
                    return;
                }
            }
        }
        int[] a = encode(lo, length);
        int[] b = encode(hi, length);
        out.add(new Sequence(a, b));
    }

    private static int length(int cp) {
        return cp <= 0x7F ? 1 : cp <= 0x7FF ? 2 : cp <= 0xFFFF ? 3 : 4;
    }

    private static int[] encode(int cp, int length) {
        return switch (length) {
            case 1 -> new int[] {cp};
            case 2 -> new int[] {0xC0 | cp >> 6, 0x80 | cp & 0x3F};
            case 3 -> new int[] {0xE0 | cp >> 12, 0x80 | cp >> 6 & 0x3F, 0x80 | cp & 0x3F};
            default -> new int[] {0xF0 | cp >> 18, 0x80 | cp >> 12 & 0x3F, 0x80 | cp >> 6 & 0x3F, 0x80 | cp & 0x3F};
        };
    }
}
