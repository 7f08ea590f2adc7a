package io.kvcache.core.chat;

import io.kvcache.core.UntrustedText;
import io.kvcache.core.grammar.JsonSchemaGrammar;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a model family writes tool calls in its reply, found from its chat template, and reading
 * them back out of the generated text:
 * <ul>
 *   <li>{@link #HERMES} (Qwen 2.5/3, Hermes, SmolLM3...): {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>},
 *       one block per call;</li>
 *   <li>{@link #LLAMA3}: a JSON object {@code {"name": ..., "parameters": {...}}}, with or without
 *       {@code <|python_tag|>} before it;</li>
 *   <li>{@link #MISTRAL}: {@code [TOOL_CALLS]} and a JSON list of {@code {"name", "arguments"}}, or
 *       {@code [TOOL_CALLS]name[ARGS]{...}} per call (newer Mistral templates);</li>
 *   <li>{@link #GRANITE}: {@code <|tool_call|>} and a JSON list of calls;</li>
 *   <li>{@link #GENERIC}, for any other template: a reply that is wholly JSON, one call
 *       ({@code {"name", "arguments"}}, or {@code {"tool_call": {...}}}) or several
 *       ({@code {"tool_calls": [...]}} or a list).</li>
 * </ul>
 * Every call is checked against the tools that were offered.
 */
public enum ToolCallFormat {
    HERMES("<tool_call>"),
    LLAMA3("<|python_tag|>"),
    MISTRAL("[TOOL_CALLS]"),
    GRANITE("<|tool_call|>"),
    GENERIC("");

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SecureRandom IDS = new SecureRandom();
    private static final String ID_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /** The text that opens a call in this format ("" where a call is bare JSON). */
    private final String marker;

    ToolCallFormat(String marker) {
        this.marker = marker;
    }

    /** The format a chat template teaches its model, by the markup it renders tool calls with. */
    public static ToolCallFormat of(String templateSource) {
        if (templateSource.contains("<tool_call>")) {
            return HERMES;
        }
        if (templateSource.contains("[TOOL_CALLS]")) {
            return MISTRAL;
        }
        if (templateSource.contains("<|tool_call|>")) {
            return GRANITE;
        }
        if (templateSource.contains("<|python_tag|>") || templateSource.contains("Environment: ipython")) {
            return LLAMA3;
        }
        return GENERIC;
    }

    /**
     * Where a call begins in a reply, for a constraint that leaves the reply free until then: the
     * family's markup, anywhere (Hermes, Mistral, Granite), or the opening of a call written as
     * bare JSON, only at the start of the reply (Llama 3's {@code {"name": "}, the generic
     * {@code {"tool_calls": [}).
     *
     * @param text         the text a call begins with, as {@link #addCallRule} writes it
     * @param atReplyStart whether it counts only at the start of the reply (after blanks)
     */
    public record CallOpening(String text, boolean atReplyStart) {
    }

    /** Where a call in this format begins (see {@link CallOpening}). */
    public CallOpening callOpening() {
        return switch (this) {
            case HERMES, MISTRAL, GRANITE -> new CallOpening(marker, false);
            case LLAMA3 -> new CallOpening("{\"name\": \"", true);
            case GENERIC -> new CallOpening("{\"tool_calls\": [", true);
        };
    }

    /**
     * The markup of every family's calls. Vocabularies often hold it as control tokens
     * ({@code <|python_tag|>}, {@code [TOOL_CALLS]}), which a constraint must let a model write
     * (see {@link io.kvcache.core.grammar.TokenTrie#of(io.kvcache.core.tokenizer.Tokenizer, java.util.Set)}).
     */
    public static Set<String> markup() {
        return Set.of("<tool_call>", "</tool_call>", "<|python_tag|>", "[TOOL_CALLS]", "[ARGS]", "<|tool_call|>");
    }

    /**
     * Adds to {@code grammar} the rule (returned by name) of a reply that is one or more calls of
     * {@code tools} written in this format, each call's arguments held to its tool's parameter
     * schema and spaced as chat templates' {@code tojson} writes them, so that the reply reads as
     * the template renders the call again at the next turn.
     *
     * @throws io.kvcache.core.grammar.GrammarException when a tool's parameter schema cannot be compiled
     */
    public String addCallRule(JsonSchemaGrammar grammar, List<ToolDefinition> tools) {
        List<String> calls = new ArrayList<>();
        for (ToolDefinition tool : tools) {
            String arguments = grammar.addSchema("arguments-" + tool.name(), tool.parametersSchema(),
                    JsonSchemaGrammar.Spacing.CANONICAL);
            String name = JsonSchemaGrammar.literal(JSON.writeValueAsString(tool.name()));
            String key = this == LLAMA3 ? "parameters" : "arguments";
            String call = JsonSchemaGrammar.literal("{\"name\": ") + " " + name + " "
                    + JsonSchemaGrammar.literal(", \"" + key + "\": ") + " " + arguments + " " + JsonSchemaGrammar.literal("}");
            calls.add(this == HERMES ? JsonSchemaGrammar.literal("<tool_call>\n") + " " + call + " "
                    + JsonSchemaGrammar.literal("\n</tool_call>") : call);
        }
        grammar.addRule("tool-call", String.join(" | ", calls));
        String list = "tool-call ( " + JsonSchemaGrammar.literal(", ") + " tool-call )*";
        grammar.addRule("tool-calls", switch (this) {
            case HERMES -> "tool-call ( " + JsonSchemaGrammar.literal("\n") + " tool-call )*";
            case LLAMA3 -> "tool-call";
            case MISTRAL -> JsonSchemaGrammar.literal("[TOOL_CALLS][") + " " + list + " " + JsonSchemaGrammar.literal("]");
            case GRANITE -> JsonSchemaGrammar.literal("<|tool_call|>[") + " " + list + " " + JsonSchemaGrammar.literal("]");
            case GENERIC -> JsonSchemaGrammar.literal("{\"tool_calls\": [") + " " + list + " "
                    + JsonSchemaGrammar.literal("]}");
        });
        return "tool-calls";
    }

    /** A reply read for tool calls: the text for the user (before any call) and the calls, in order. */
    public record Reply(String text, List<ToolCall> calls) {
        public Reply {
            calls = List.copyOf(calls);
        }
    }

    /**
     * Where tool-call markup may begin in {@code text}, a reply generated so far: text before it can
     * be shown while streaming, the rest is held back until the reply is complete. The length of
     * the text when no call can have begun.
     */
    public int markupStart(String text) {
        if (this != HERMES && this != MISTRAL && this != GRANITE) {
            int first = firstNonBlank(text);
            if (first < text.length() && (text.charAt(first) == '{' || text.charAt(first) == '[')) {
                return first;
            }
            if (this == GENERIC) {
                return text.length();
            }
        }
        int at = text.indexOf(marker);
        if (at >= 0) {
            return at;
        }
        // A marker may be arriving piece by piece: hold back an ending that starts it.
        for (int n = Math.min(marker.length() - 1, text.length()); n > 0; n--) {
            if (text.endsWith(marker.substring(0, n))) {
                return text.length() - n;
            }
        }
        return text.length();
    }

    /**
     * The tool calls in a complete reply, checked against {@code tools}; a reply without calls is
     * all text.
     *
     * @throws ToolCallException when a call names a tool not offered or its arguments are not a
     *                           JSON object holding the schema's required properties
     */
    public Reply parse(String reply, List<ToolDefinition> tools) {
        int start = markupStart(reply);
        if (start == reply.length() || (marker.isEmpty() || !reply.startsWith(marker, start)) && !isJsonStart(reply, start)) {
            return new Reply(reply, List.of());
        }
        List<JsonNode> calls = switch (this) {
            case HERMES -> hermesCalls(reply.substring(start));
            case MISTRAL -> mistralCalls(reply.substring(start + marker.length()));
            case GRANITE -> listOrObject(reply.substring(start + marker.length()));
            case LLAMA3 -> reply.startsWith(marker, start) ? listOrObject(reply.substring(start + marker.length()))
                    : bareCalls(reply.substring(start));
            case GENERIC -> bareCalls(reply.substring(start));
        };
        if (calls.isEmpty()) {
            return new Reply(reply, List.of());
        }
        Map<String, ToolDefinition> offered = new HashMap<>();
        tools.forEach(t -> offered.put(t.name(), t));
        List<ToolCall> checked = new ArrayList<>();
        for (JsonNode call : calls) {
            checked.add(checked(call, offered));
        }
        return new Reply(reply.substring(0, start).strip(), checked);
    }

    private static boolean isJsonStart(String text, int at) {
        return at < text.length() && (text.charAt(at) == '{' || text.charAt(at) == '[');
    }

    private static int firstNonBlank(String text) {
        int i = 0;
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }

    /** Each {@code <tool_call>...</tool_call>} block's JSON (the last one may stop unclosed). */
    private static List<JsonNode> hermesCalls(String markup) {
        List<JsonNode> calls = new ArrayList<>();
        int at = markup.indexOf("<tool_call>");
        while (at >= 0) {
            int from = at + "<tool_call>".length();
            int end = markup.indexOf("</tool_call>", from);
            calls.add(json(markup.substring(from, end < 0 ? markup.length() : end)));
            at = end < 0 ? -1 : markup.indexOf("<tool_call>", end);
        }
        return calls;
    }

    /** {@code [{...}, ...]}, or {@code name[ARGS]{...}} repeated after further {@code [TOOL_CALLS]}. */
    private static List<JsonNode> mistralCalls(String afterMarker) {
        String rest = afterMarker.strip();
        if (rest.startsWith("[") || rest.startsWith("{")) {
            return listOrObject(rest);
        }
        List<JsonNode> calls = new ArrayList<>();
        for (String part : rest.split("\\[TOOL_CALLS]")) {
            int args = part.indexOf("[ARGS]");
            if (args < 0) {
                throw new ToolCallException("a [TOOL_CALLS] call has no [ARGS]: " + UntrustedText.quote(part));
            }
            Map<String, Object> call = Map.of("name", part.substring(0, args).strip(),
                    "arguments", json(part.substring(args + "[ARGS]".length())));
            calls.add(JSON.valueToTree(call));
        }
        return calls;
    }

    /**
     * Calls written as bare JSON, without a marker: only JSON that is shaped as calls counts
     * ({@code {"name", "arguments" or "parameters"}}, a list of them, {@code {"tool_call": ...}} or
     * {@code {"tool_calls": [...]}}); any other reply, JSON or not (an answer asked for as JSON),
     * is text.
     */
    private static List<JsonNode> bareCalls(String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text.strip());
        } catch (JacksonException e) {
            return List.of();
        }
        List<JsonNode> calls;
        if (root.isObject() && root.has("tool_calls")) {
            calls = List.copyOf(root.get("tool_calls").values());
        } else if (root.isObject() && root.has("tool_call")) {
            calls = List.of(root.get("tool_call"));
        } else {
            calls = root.isArray() ? List.copyOf(root.values()) : List.of(root);
        }
        boolean shapedAsCalls = !calls.isEmpty() && calls.stream().allMatch(c -> c.isObject() && c.has("name")
                && (c.has("arguments") || c.has("parameters")));
        return shapedAsCalls ? calls : List.of();
    }

    private static List<JsonNode> listOrObject(String text) {
        JsonNode root = json(text);
        return root.isArray() ? List.copyOf(root.values()) : List.of(root);
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text.strip());
        } catch (JacksonException e) {
            throw new ToolCallException("a tool call is not valid JSON (" + e.getOriginalMessage() + "): "
                    + UntrustedText.quote(text));
        }
    }

    /** A call's name and arguments ({@code arguments} or Llama's {@code parameters}), checked against the offer. */
    private static ToolCall checked(JsonNode call, Map<String, ToolDefinition> offered) {
        if (!call.isObject() || !call.path("name").isString()) {
            throw new ToolCallException("a tool call must be an object with a \"name\": " + UntrustedText.quote(call.toString()));
        }
        String name = call.get("name").asString();
        ToolDefinition tool = offered.get(name);
        if (tool == null) {
            throw new ToolCallException("the model called " + UntrustedText.quote(name) + ", which is not among the tools "
                    + offered.keySet() + " it was offered");
        }
        JsonNode arguments = call.has("arguments") ? call.get("arguments") : call.path("parameters");
        if (arguments.isString()) {
            arguments = json(arguments.asString());
        }
        if (arguments.isMissingNode() || arguments.isNull()) {
            arguments = JSON.createObjectNode();
        }
        if (!arguments.isObject()) {
            throw new ToolCallException("the arguments of " + name + " must be a JSON object, not "
                    + UntrustedText.quote(arguments.toString()));
        }
        for (JsonNode required : json(tool.parametersSchema()).path("required")) {
            if (!arguments.has(required.asString())) {
                throw new ToolCallException("the call of " + name + " lacks the required argument \""
                        + required.asString() + "\": " + UntrustedText.quote(arguments.toString()));
            }
        }
        String id = call.path("id").isString() ? call.get("id").asString() : newId();
        return new ToolCall(id, name, JSON.writeValueAsString(arguments));
    }

    /** Nine letters and digits: Mistral's templates require call ids of exactly that length. */
    private static String newId() {
        StringBuilder id = new StringBuilder(9);
        for (int i = 0; i < 9; i++) {
            id.append(ID_CHARACTERS.charAt(IDS.nextInt(ID_CHARACTERS.length())));
        }
        return id.toString();
    }
}
