package io.kvcache.spring.chat;

import io.kvcache.core.generate.GenerationResult;
import io.kvcache.core.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The text a stored conversation's tokens stand for: the rendered prompt and the reply generated
 * after it, with the token ids the model read and wrote for it. A later prompt whose text starts
 * with this text is encoded as these ids followed by the encoding of only the rest, so the cache's
 * prefix is reused even where the reply, encoded again as text, would give other ids than the ones
 * sampled.
 *
 * @param text   the prompt's text and the reply's text that {@code tokens} spell
 * @param tokens the prompt's ids and the reply's (without an end-of-generation token, whose text a
 *               chat template writes itself after the reply)
 */
record ConversationText(String text, int[] tokens) {
    /** A conversation that has not had a turn yet. */
    static final ConversationText NONE = new ConversationText("", new int[0]);

    /**
     * The prompt followed by the reply's ids that spell the start of the reply's text. Where the
     * text was cut at a stop string (or a character was left unfinished) the ids past the cut are
     * left out: the rest of the text is encoded again at the next turn.
     */
    static ConversationText afterTurn(String promptText, int[] promptTokens, GenerationResult reply, Tokenizer tokenizer) {
        byte[] replyText = reply.text().getBytes(StandardCharsets.UTF_8);
        int[] ids = reply.tokens();
        int kept = 0;
        int keptBytes = 0;
        int spelled = 0;
        for (int i = 0; i < ids.length && !tokenizer.isEndOfGeneration(ids[i]); i++) {
            byte[] piece = tokenizer.tokenBytes(ids[i]);
            if (spelled + piece.length > replyText.length
                    || !Arrays.equals(piece, 0, piece.length, replyText, spelled, spelled + piece.length)) {
                break;
            }
            spelled += piece.length;
            // the kept text must end between characters, not inside one's UTF-8 bytes
            if (spelled == replyText.length || (replyText[spelled] & 0xC0) != 0x80) {
                kept = i + 1;
                keptBytes = spelled;
            }
        }
        int[] tokens = Arrays.copyOf(promptTokens, promptTokens.length + kept);
        System.arraycopy(ids, 0, tokens, promptTokens.length, kept);
        return new ConversationText(promptText + new String(replyText, 0, keptBytes, StandardCharsets.UTF_8), tokens);
    }

    /**
     * Whether {@code promptText} extends this text. An empty text is never extended: its ids (at
     * most a BOS) do not carry the prefix space a tokenizer puts at the start of a text.
     */
    boolean isExtendedBy(String promptText) {
        return !text.isEmpty() && promptText.startsWith(text);
    }
}
