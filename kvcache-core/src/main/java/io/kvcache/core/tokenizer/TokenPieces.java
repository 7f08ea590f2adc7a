package io.kvcache.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** The output bytes of every token, computed once per vocabulary as llama.cpp's token_to_piece(special = true) does. */
final class TokenPieces {
    private TokenPieces() {
    }

    /** SentencePiece-style vocabularies: '▁' stands for a space, {@code <0xNN>} byte tokens for one byte. */
    static byte[][] sentencePiece(Vocabulary vocabulary) {
        byte[][] pieces = new byte[vocabulary.size()][];
        for (int id = 0; id < pieces.length; id++) {
            String text = vocabulary.text(id);
            pieces[id] = switch (vocabulary.type(id)) {
                case CONTROL, UNKNOWN, USER_DEFINED -> utf8(text);
                case NORMAL -> utf8(text.replace('\u2581', ' '));
                case BYTE -> new byte[] {(byte) vocabulary.byteValue(id)};
                case UNUSED -> new byte[0];
            };
        }
        return pieces;
    }

    /** Byte-level BPE vocabularies: every character of a normal token stands for one byte (see {@link ByteLevel}). */
    static byte[][] byteLevel(Vocabulary vocabulary) {
        byte[][] pieces = new byte[vocabulary.size()][];
        for (int id = 0; id < pieces.length; id++) {
            String text = vocabulary.text(id);
            pieces[id] = switch (vocabulary.type(id)) {
                case CONTROL, UNKNOWN, USER_DEFINED -> utf8(text);
                case NORMAL -> unmapBytes(text);
                case BYTE -> new byte[] {(byte) vocabulary.byteValue(id)};
                case UNUSED -> new byte[0];
            };
        }
        return pieces;
    }

    private static byte[] unmapBytes(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        text.codePoints().forEach(cp -> {
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                // llama.cpp's llama_decode_text writes an unmappable character in this form
                StringBuilder marker = new StringBuilder("[UNK_BYTE_0x");
                for (byte u : utf8(Character.toString(cp))) {
                    marker.append(String.format("%02x", u & 0xFF));
                }
                out.writeBytes(utf8(marker.append(text).append(']').toString()));
            }
        });
        return out.toByteArray();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
