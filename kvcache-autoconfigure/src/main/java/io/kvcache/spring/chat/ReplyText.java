package io.kvcache.spring.chat;

import io.kvcache.core.chat.ToolCallFormat;

/**
 * A reply's text as it is decoded, deciding what a stream may show: everything, or, when the model
 * was offered tools, only the text before where tool-call markup may begin (held back until the
 * reply is complete, so the markup never reaches the user).
 */
final class ReplyText {
    private final ToolCallFormat format;
    private final StringBuilder text = new StringBuilder();
    private int shown;

    /** {@code format} null: the model was offered no tools, so all of its text is shown. */
    ReplyText(ToolCallFormat format) {
        this.format = format;
    }

    /** Appends a decoded piece; returns the text that may be shown now (often empty while holding). */
    String append(String piece) {
        text.append(piece);
        int showable = format == null ? text.length() : format.markupStart(text.toString());
        if (showable <= shown) {
            return "";
        }
        String now = text.substring(shown, showable);
        shown = showable;
        return now;
    }

    /** The text held back so far: what remains to show when the complete reply holds no call. */
    String heldBack() {
        return text.substring(shown);
    }
}
