package io.kvcache.core.chat;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How llama.cpp fits OpenAI-style tool turns to Gemma 4's templates, which write a tool round as
 * one model turn: the first template release reads the answers from the assistant message's
 * {@code tool_responses} ({@code {name, response}}) instead of from {@code tool} messages, so
 * llama.cpp folds the calling assistant message, the tool messages answering it and a final
 * assistant reply into one message; and when a render ends with a closed turn, the generation
 * prompt opens the model's turn the template left unopened.
 */
final class Gemma4Turns {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String TOOL_CALL = "'<|tool_call>call:'";

    private Gemma4Turns() {
    }

    /** Gemma 4's first template release (later ones document the OpenAI message shapes they take). */
    static boolean readsToolResponses(String source) {
        return source.contains(TOOL_CALL) && !source.contains("{#- OpenAI Chat Completions:");
    }

    /**
     * Each assistant message with tool calls, the tool messages after it and the assistant reply
     * after those (one without calls and with text), as one assistant message: its calls, the
     * answers as {@code tool_responses} (each named by the call it answers, in order, else by its
     * {@code tool_call_id}; its text read as JSON where it is JSON) and the reply as its content.
     */
    static List<Map<String, Object>> withToolResponses(List<Map<String, Object>> messages) {
        List<Map<String, Object>> folded = new ArrayList<>();
        int i = 0;
        while (i < messages.size()) {
            Map<String, Object> message = messages.get(i++);
            if (!"assistant".equals(message.get("role")) || !(message.get("tool_calls") instanceof List<?> calls)
                    || calls.isEmpty()) {
                folded.add(message);
                continue;
            }
            List<Map<String, Object>> responses = new ArrayList<>();
            while (i < messages.size() && "tool".equals(messages.get(i).get("role"))) {
                Map<String, Object> answer = messages.get(i++);
                Map<String, Object> response = new LinkedHashMap<>();
                response.put("name", callName(calls, responses.size(), answer));
                response.put("response", jsonOrText(answer.get("content")));
                responses.add(response);
            }
            Map<String, Object> turn = new LinkedHashMap<>();
            turn.put("role", "assistant");
            turn.put("tool_calls", calls);
            if (!responses.isEmpty()) {
                turn.put("tool_responses", responses);
            }
            if (i < messages.size() && isReply(messages.get(i))) {
                turn.put("content", messages.get(i++).get("content"));
            }
            folded.add(turn);
        }
        return folded;
    }

    /** After a render ending with a closed turn, the model's turn opened for generation. */
    static String withModelTurnOpened(String source, String prompt, boolean addGenerationPrompt) {
        return addGenerationPrompt && source.contains(TOOL_CALL) && prompt.endsWith("<turn|>\n")
                ? prompt + "<|turn>model\n" : prompt;
    }

    private static boolean isReply(Map<String, Object> message) {
        return "assistant".equals(message.get("role")) && !(message.get("tool_calls") instanceof List<?> calls
                && !calls.isEmpty()) && message.get("content") instanceof String text && !text.isEmpty();
    }

    private static Object callName(List<?> calls, int index, Map<String, Object> answer) {
        if (index < calls.size() && calls.get(index) instanceof Map<?, ?> call
                && call.get("function") instanceof Map<?, ?> function
                && function.get("name") instanceof String name && !name.isEmpty()) {
            return name;
        }
        return answer.getOrDefault("tool_call_id", "");
    }

    private static Object jsonOrText(Object content) {
        if (!(content instanceof String text)) {
            return content;
        }
        try {
            return JSON.readValue(text, Object.class);
        } catch (JacksonException e) {
            return text;
        }
    }
}
