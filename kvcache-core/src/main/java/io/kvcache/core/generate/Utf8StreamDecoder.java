package io.kvcache.core.generate;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns the bytes of streamed tokens into text without ever splitting a UTF-8 character: bytes of
 * a character whose end has not arrived yet are held until it does. Invalid sequences become U+FFFD.
 */
public final class Utf8StreamDecoder {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Adds bytes and returns the text they complete (possibly empty). */
    public String push(byte[] bytes) {
        pending.writeBytes(bytes);
        byte[] all = pending.toByteArray();
        int complete = completePrefix(all);
        pending.reset();
        pending.write(all, complete, all.length - complete);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /** Returns whatever is still held, decoded with replacement characters; the decoder is empty afterwards. */
    public String flush() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
    }

    /** Length of the longest prefix that does not end inside an unfinished (but so far valid) character. */
    private static int completePrefix(byte[] b) {
        int n = b.length;
        // A character is at most 4 bytes: look back at most 3 bytes for its lead byte.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int lead = b[n - back] & 0xFF;
            if ((lead & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for the lead
            }
            int length = lead >= 0xF5 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 1;
            return length > back ? n - back : n;
        }
        return n;
    }
}
