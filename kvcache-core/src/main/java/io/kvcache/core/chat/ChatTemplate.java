package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.TemplateError;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A model's Jinja chat template, rendering a conversation into the prompt text the model was
 * trained on, as llama.cpp's server does (its minja engine, which follows Hugging Face's
 * transformers): the template sees {@code messages}, {@code add_generation_prompt},
 * {@code bos_token}, {@code eos_token}, {@code enable_thinking} (whether the template opens a
 * reasoning block, as llama.cpp's server sets it by default), that earlier turns' reasoning is kept
 * ({@code preserve_thinking} true; {@code clear_thinking}, {@code drop_thinking} false), today's
 * date ({@code datetime} "Dec 04 2026", {@code date_string} "04 Dec 2026"), the
 * {@code tools} a model may call
 * (only when there are some) and the functions {@code raise_exception} and {@code strftime_now}; a template that rejects
 * system messages gets them folded into the next user message ({@link SystemRoleFolding}). Tool
 * calls reach the template as OpenAI's API sends them ({@code tool_calls} of
 * {@code {id, type, function: {name, arguments}}}, {@code tool_call_id} on the tool's answer), the
 * arguments as JSON text, or as an object for a template that only prints them as one (as llama.cpp
 * finds by rendering a probe). Instances are immutable and safe to share between threads.
 */
public final class ChatTemplate {
    private static final String SYSTEM_NEEDLE = "<System Needle>";
    private static final String ARGUMENT_NEEDLE = "<Argument Needle>";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String name;
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final boolean tokenizerAddsBos;
    private final boolean tokenizerAddsEos;
    private final TemplateLimits limits;
    private final JinjaEngine engine;
    private final Traits traits;
    private final UnaryOperator<String> messageText;

    /**
     * What rendering probes found out about the template, as llama.cpp probes it: whether it
     * accepts a system message, needs a tool call's arguments as an object, and opens a reasoning
     * block of its own (tags such as {@code <think>}) that {@code enable_thinking} switches.
     */
    private record Traits(boolean systemRole, boolean objectArguments, boolean thinking) {
        /** What probing starts from. */
        static final Traits ASSUMED = new Traits(true, false, false);

        Traits withObjectArguments(boolean objectArguments) {
            return new Traits(systemRole, objectArguments, thinking);
        }

        Traits withThinking(boolean thinking) {
            return new Traits(systemRole, objectArguments, thinking);
        }
    }

    private ChatTemplate(String name, String source, String bosToken, String eosToken, boolean tokenizerAddsBos,
                         boolean tokenizerAddsEos, TemplateLimits limits, JinjaEngine engine, Traits traits,
                         UnaryOperator<String> messageText) {
        this.name = name;
        this.source = source;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.tokenizerAddsBos = tokenizerAddsBos;
        this.tokenizerAddsEos = tokenizerAddsEos;
        this.limits = limits;
        this.engine = engine;
        this.traits = traits;
        this.messageText = messageText;
    }

    /** {@link #named} with the name "chat template". */
    public static ChatTemplate of(String jinjaSource, String bosToken, String eosToken) {
        return named("chat template", jinjaSource, bosToken, eosToken);
    }

    /** {@link #named(String, String, String, String, TemplateLimits)} with {@link TemplateLimits#DEFAULT}. */
    public static ChatTemplate named(String name, String jinjaSource, String bosToken, String eosToken) {
        return named(name, jinjaSource, bosToken, eosToken, TemplateLimits.DEFAULT);
    }

    /**
     * Parses {@code jinjaSource}; {@code name} (a model file, say) identifies it in error messages.
     * The BOS/EOS texts are what the template sees as {@code bos_token}/{@code eos_token} ("" for a
     * vocabulary without one). The template renders here to find whether it accepts a system
     * message, how it reads a tool call's arguments and whether it opens a reasoning block, as
     * llama.cpp does. Every render is held to {@code limits}; the template may use only the tags,
     * filters, tests, functions and methods real chat templates use, and may not load other files.
     *
     * @throws ChatTemplateException when the template does not parse, loads a file or passes a limit
     */
    public static ChatTemplate named(String name, String jinjaSource, String bosToken, String eosToken,
                                     TemplateLimits limits) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(jinjaSource, "jinjaSource");
        Objects.requireNonNull(bosToken, "bosToken");
        Objects.requireNonNull(eosToken, "eosToken");
        Objects.requireNonNull(limits, "limits");
        String source = JinjaSourceWhitespace.apply(jinjaSource);
        TemplateStructure.check(name, source, limits);
        JinjaEngine engine = new JinjaEngine(Clock.systemDefaultZone(), limits);
        engine.structureError(source).ifPresent(e -> {
            throw notParsing(name, e);
        });
        ChatTemplate probe = new ChatTemplate(name, source, bosToken, eosToken, false, false, limits, engine,
                Traits.ASSUMED, UnaryOperator.identity());
        Traits traits = new Traits(probe.acceptsSystemRole(), probe.readsObjectArguments(), probe.opensReasoning());
        return new ChatTemplate(name, source, bosToken, eosToken, false, false, limits, engine, traits,
                UnaryOperator.identity());
    }

    /**
     * The clock {@code strftime_now} reads, in its time zone (by default the system clock in the
     * local zone, like llama.cpp and transformers).
     */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(name, source, bosToken, eosToken, tokenizerAddsBos, tokenizerAddsEos, limits,
                new JinjaEngine(Objects.requireNonNull(clock, "clock"), limits), traits, messageText);
    }

    /**
     * Passes every message's text through {@code messageText} before the template sees it. A model's
     * template gets its tokenizer's {@code markSpecialAsText}, so that control-token text in a
     * message is encoded as plain text and only the template's own text yields control tokens;
     * {@code UnaryOperator.identity()} trusts the messages (for callers that write them themselves).
     */
    public ChatTemplate withMessageText(UnaryOperator<String> messageText) {
        return new ChatTemplate(name, source, bosToken, eosToken, tokenizerAddsBos, tokenizerAddsEos, limits, engine,
                traits, Objects.requireNonNull(messageText, "messageText"));
    }

    /**
     * Renders for a tokenizer that adds BOS and/or EOS itself (encoding with add-special, as kvcache
     * and llama.cpp do): a leading {@code bos_token} and a trailing {@code eos_token} are removed
     * from the render, as llama.cpp removes them, so that the prompt does not get them twice.
     */
    public ChatTemplate forTokenizerAdding(boolean bos, boolean eos) {
        return new ChatTemplate(name, source, bosToken, eosToken, bos, eos, limits, engine, traits, messageText);
    }

    /** How the model this template was written for writes its tool calls. */
    public ToolCallFormat toolCallFormat() {
        return ToolCallFormat.of(source);
    }

    /**
     * The prompt for {@code messages}; with {@code addGenerationPrompt} it ends with the opening of
     * the assistant's turn, ready for generation.
     *
     * @throws ChatTemplateException when the template fails, passes a limit or calls raise_exception
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, List.of(), addGenerationPrompt);
    }

    /**
     * The prompt for {@code messages} offering the model {@code tools} (none: as
     * {@link #render(List, boolean)}).
     *
     * @throws ChatTemplateException when the template fails or calls raise_exception, or a tool's
     *                               schema or a call's arguments are not JSON objects
     */
    public String render(List<ChatMessage> messages, List<ToolDefinition> tools, boolean addGenerationPrompt) {
        List<ChatMessage> conversation = List.copyOf(messages);
        List<Map<String, Object>> turns = asMaps(traits.systemRole() ? conversation : SystemRoleFolding.fold(conversation),
                traits);
        if (Gemma4Turns.readsToolResponses(source)) {
            turns = Gemma4Turns.withToolResponses(turns);
        }
        Map<String, Object> variables = mappedVariables(turns, tools, addGenerationPrompt, traits);
        // llama.cpp's server keeps the reasoning of earlier turns by default (its preserve_reasoning
        // template argument) and tells templates so under each name they read it by.
        variables.put("preserve_reasoning", true);
        variables.put("preserve_thinking", true);
        variables.put("clear_thinking", false);
        variables.put("truncate_history_thinking", false);
        variables.put("drop_thinking", false);
        // And today's date, as some templates print it without calling strftime_now.
        ZonedDateTime now = ZonedDateTime.now(engine.clock());
        variables.put("datetime", DateTimeFormatter.ofPattern("MMM dd yyyy", Locale.ENGLISH).format(now));
        variables.put("date_string", DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH).format(now));
        JinjaEngine.Result result = engine.render(source, variables);
        if (result.failed()) {
            throw failure(result);
        }
        String prompt = Gemma4Turns.withModelTurnOpened(source, result.output(), addGenerationPrompt);
        if (tokenizerAddsBos && !bosToken.isEmpty() && prompt.startsWith(bosToken)) {
            prompt = prompt.substring(bosToken.length());
        }
        if (tokenizerAddsEos && !eosToken.isEmpty() && prompt.endsWith(eosToken)) {
            prompt = prompt.substring(0, prompt.length() - eosToken.length());
        }
        return prompt;
    }

    /** The variables of a render; {@code tools} only where there are some. */
    private Map<String, Object> variables(List<ChatMessage> messages, List<ToolDefinition> tools,
                                          boolean addGenerationPrompt, Traits traits) {
        return mappedVariables(asMaps(messages, traits), tools, addGenerationPrompt, traits);
    }

    private Map<String, Object> mappedVariables(List<Map<String, Object>> messages, List<ToolDefinition> tools,
                                          boolean addGenerationPrompt, Traits traits) {
        Map<String, Object> variables = new LinkedHashMap<>();
        if (!tools.isEmpty()) {
            variables.put("tools", tools.stream().map(ChatTemplate::asMap).toList());
        }
        variables.put("messages", messages);
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("bos_token", bosToken);
        variables.put("eos_token", eosToken);
        variables.put("enable_thinking", traits.thinking());
        return variables;
    }

    private List<Map<String, Object>> asMaps(List<ChatMessage> messages, Traits traits) {
        return messages.stream().map(m -> asMap(m, traits.objectArguments())).toList();
    }

    /** Templates index messages as dicts: message['role'], message.content, message.tool_calls. */
    private Map<String, Object> asMap(ChatMessage message, boolean objectArguments) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", message.role());
        map.put("content", messageText.apply(message.content()));
        if (!message.toolCalls().isEmpty()) {
            List<Map<String, Object>> calls = new ArrayList<>();
            for (ToolCall call : message.toolCalls()) {
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", call.name());
                function.put("arguments", objectArguments ? jsonObject(call.arguments(), "tool call " + call.name()
                        + "'s arguments") : call.arguments());
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("id", call.id());
                entry.put("type", "function");
                entry.put("function", function);
                calls.add(entry);
            }
            map.put("tool_calls", calls);
        }
        if (message.toolCallId() != null) {
            map.put("tool_call_id", message.toolCallId());
        }
        return map;
    }

    /** A tool as OpenAI's API lists it: {@code {type: function, function: {name, description, parameters}}}. */
    private static Map<String, Object> asMap(ToolDefinition tool) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", tool.name());
        function.put("description", tool.description());
        function.put("parameters", jsonObject(tool.parametersSchema(), "tool " + tool.name() + "'s parameter schema"));
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("type", "function");
        map.put("function", function);
        return map;
    }

    /** {@code json} read as a JSON object, keys in their order; {@code what} names it in the error. */
    private static Map<String, Object> jsonObject(String json, String what) {
        try {
            JsonNode node = JSON.readTree(json);
            if (!node.isObject()) {
                throw new ChatTemplateException(what + " must be a JSON object, not " + node.getNodeType());
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> object = JSON.treeToValue(node, LinkedHashMap.class);
            return object;
        } catch (JacksonException e) {
            throw new ChatTemplateException(what + " are not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Whether the template reads a tool call's arguments as an object, as llama.cpp finds it (and
     * then gives every call's arguments as one): a tool round (user, assistant calling a tool with
     * an object argument, tool, assistant, user) with a tool offered renders without failing and
     * reads the argument's value ({@link ValueReads}: iterating the object, taking the argument out
     * of it or dumping it with tojson; not printing the object whole).
     */
    private boolean readsObjectArguments() {
        ToolCall call = new ToolCall("call00001", "tool1", "{\"arg\": \"" + ARGUMENT_NEEDLE + "\"}");
        List<ChatMessage> conversation = List.of(ChatMessage.user("User message"), ChatMessage.assistant("", List.of(call)),
                ChatMessage.tool("call00001", "Tool response"), ChatMessage.assistant("The tool response was 'tool response'"),
                ChatMessage.user("User message"));
        ToolDefinition tool = new ToolDefinition("tool1", "Tool description", """
                {"type": "object", "properties": {"arg": {"type": "string", "description": "Arg description"}},
                 "required": ["arg"]}""");
        Map<String, Object> variables = variables(conversation, List.of(tool), true, Traits.ASSUMED.withObjectArguments(true));
        boolean[] rendered = new boolean[1];
        boolean read = ValueReads.readDuring(firstCallArgument(variables), () -> {
            try {
                rendered[0] = !engine.render(source, variables).failed();
            } catch (RuntimeException e) {
                rendered[0] = false;
            }
        });
        return rendered[0] && read;
    }

    /** The value of the argument of the probe's tool call: messages[1].tool_calls[0].function.arguments.arg. */
    @SuppressWarnings("unchecked")
    private static Object firstCallArgument(Map<String, Object> variables) {
        var messages = (List<Map<String, Object>>) variables.get("messages");
        var calls = (List<Map<String, Object>>) messages.get(1).get("tool_calls");
        var function = (Map<String, Object>) calls.getFirst().get("function");
        return ((Map<String, Object>) function.get("arguments")).get("arg");
    }

    /**
     * Whether {@code enable_thinking} opens or closes a reasoning block: the generation prompts
     * with it on and off hold different tags (DeepSeek's {@code <think>} against
     * {@code <think></think>}, GLM's {@code <think>} against {@code </think>}), not only different
     * words (Apertus's "Deliberation: enabled"), which llama.cpp does not count as reasoning and
     * renders with it off.
     */
    private boolean opensReasoning() {
        List<ChatMessage> conversation = List.of(ChatMessage.user("test"));
        Optional<String> on = probeRender(conversation, true, Traits.ASSUMED.withThinking(true));
        Optional<String> off = probeRender(conversation, true, Traits.ASSUMED);
        return on.isPresent() && off.isPresent() && !tags(on.get()).equals(tags(off.get()));
    }

    /** The tags ({@code <...>} without a nested angle bracket) in {@code text}, in order. */
    private static List<String> tags(String text) {
        List<String> tags = new ArrayList<>();
        int open = text.indexOf('<');
        while (open >= 0) {
            int close = text.indexOf('>', open);
            if (close < 0) {
                break;
            }
            int nested = text.lastIndexOf('<', close);
            tags.add(text.substring(nested, close + 1));
            open = text.indexOf('<', close);
        }
        return tags;
    }

    /** The probe conversation's render; empty when the template fails on it. */
    private Optional<String> probeRender(List<ChatMessage> conversation, boolean addGenerationPrompt, Traits traits) {
        return probeRender(conversation, List.of(), addGenerationPrompt, traits);
    }

    private Optional<String> probeRender(List<ChatMessage> conversation, List<ToolDefinition> tools,
                                         boolean addGenerationPrompt, Traits traits) {
        try {
            JinjaEngine.Result result = engine.render(source, variables(conversation, tools, addGenerationPrompt, traits));
            return result.failed() ? Optional.empty() : Optional.of(result.output());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether a system message reaches the output. An expression that does not parse surfaces here
     * (Jinjava parses expressions when it first evaluates them); any other failure, raise_exception
     * included, means no system role, as for llama.cpp.
     */
    private boolean acceptsSystemRole() {
        JinjaEngine.Result result = engine.render(source,
                variables(List.of(ChatMessage.system(SYSTEM_NEEDLE), ChatMessage.user("<User Needle>")), List.of(), false,
                        Traits.ASSUMED));
        result.limit().ifPresent(e -> {
            throw overLimit(name, e);
        });
        result.expressionSyntaxError().ifPresent(e -> {
            throw notParsing(name, e);
        });
        return !result.failed() && result.output().contains(SYSTEM_NEEDLE);
    }

    private static ChatTemplateException notParsing(String name, TemplateError error) {
        return new ChatTemplateException(name + " does not parse: " + describe(error), error.getException());
    }

    private static ChatTemplateException overLimit(String name, TemplateLimitException e) {
        return new ChatTemplateException(name + " was stopped: " + e.getMessage(), e);
    }

    private ChatTemplateException failure(JinjaEngine.Result result) {
        if (result.limit().isPresent()) {
            return overLimit(name, result.limit().get());
        }
        return result.raised()
                .map(raised -> new ChatTemplateException(name + " rejected the conversation: " + raised.getMessage(), raised))
                .orElseGet(() -> {
                    TemplateError first = result.fatalErrors().getFirst();
                    return new ChatTemplateException(name + " failed to render: " + describe(first), first.getException());
                });
    }

    private static String describe(TemplateError error) {
        return (error.getLineno() > 0 ? "line " + error.getLineno() + ": " : "") + error.getMessage();
    }
}
