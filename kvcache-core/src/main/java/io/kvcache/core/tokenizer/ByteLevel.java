package io.kvcache.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's reversible byte-to-character mapping used by byte-level BPE: printable Latin-1 bytes stand
 * for themselves, the other 68 bytes are moved to U+0100 and up, so every byte string becomes a
 * string of visible characters (a space becomes 'Ġ', a newline 'Ċ').
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + shifted++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The mapped form of the UTF-8 encoding of {@code codepoints[start, end)}. */
    static String encode(int[] codepoints, int start, int end) {
        return encode(new String(codepoints, start, end - start));
    }

    /** The mapped form of the UTF-8 encoding of {@code text}. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] mapped = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            mapped[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(mapped);
    }

    /** The byte that {@code codepoint} stands for, or -1 when it is not a mapped character. */
    static int byteOf(int codepoint) {
        return codepoint >= 0 && codepoint < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[codepoint] : -1;
    }
}
