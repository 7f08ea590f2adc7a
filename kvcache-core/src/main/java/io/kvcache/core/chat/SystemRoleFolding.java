package io.kvcache.core.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * What llama.cpp (minja) does for templates that have no system role, such as Gemma's, which
 * raises "System role not supported": system texts are joined with "\n" and put in front of the
 * next user message, or sent as a user message of their own when an assistant message or the end
 * comes first. A conversation with a system prompt still renders, and the instructions still reach
 * the model.
 */
final class SystemRoleFolding {
    private SystemRoleFolding() {
    }

    static List<ChatMessage> fold(List<ChatMessage> messages) {
        List<ChatMessage> out = new ArrayList<>();
        String pending = "";
        for (ChatMessage message : messages) {
            if (message.role().equals("system")) {
                pending = pending.isEmpty() ? message.content() : pending + "\n" + message.content();
            } else if (message.role().equals("user") && !pending.isEmpty()) {
                String content = message.content();
                out.add(ChatMessage.user(content.isEmpty() ? pending : pending + "\n" + content));
                pending = "";
            } else {
                if (!pending.isEmpty()) {
                    out.add(ChatMessage.user(pending));
                    pending = "";
                }
                out.add(message);
            }
        }
        if (!pending.isEmpty()) {
            out.add(ChatMessage.user(pending));
        }
        return out;
    }
}
