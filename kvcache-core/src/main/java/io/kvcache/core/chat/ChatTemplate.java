package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.TemplateError;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A model's Jinja chat template, rendering a conversation into the prompt text the model was
 * trained on, as llama.cpp's server does (its minja engine, which follows Hugging Face's
 * transformers): the template sees {@code messages}, {@code add_generation_prompt},
 * {@code bos_token}, {@code eos_token} and the functions {@code raise_exception} and
 * {@code strftime_now}; a template that rejects system messages gets them folded into the next user
 * message ({@link SystemRoleFolding}). Instances are immutable and safe to share between threads.
 */
public final class ChatTemplate {
    private static final String SYSTEM_NEEDLE = "<System Needle>";

    private final String name;
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final boolean tokenizerAddsBos;
    private final boolean tokenizerAddsEos;
    private final TemplateLimits limits;
    private final JinjaEngine engine;
    private final boolean systemRole;
    private final UnaryOperator<String> messageText;

    private ChatTemplate(String name, String source, String bosToken, String eosToken, boolean tokenizerAddsBos,
                         boolean tokenizerAddsEos, TemplateLimits limits, JinjaEngine engine, boolean systemRole) {
        this(name, source, bosToken, eosToken, tokenizerAddsBos, tokenizerAddsEos, limits, engine, systemRole,
                UnaryOperator.identity());
    }

    private ChatTemplate(String name, String source, String bosToken, String eosToken, boolean tokenizerAddsBos,
                         boolean tokenizerAddsEos, TemplateLimits limits, JinjaEngine engine, boolean systemRole,
                         UnaryOperator<String> messageText) {
        this.name = name;
        this.source = source;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.tokenizerAddsBos = tokenizerAddsBos;
        this.tokenizerAddsEos = tokenizerAddsEos;
        this.limits = limits;
        this.engine = engine;
        this.systemRole = systemRole;
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
     * vocabulary without one). The template renders once here to find whether it accepts a system
     * message, as llama.cpp does. Every render is held to {@code limits}; the template may use only
     * the tags, filters, tests, functions and methods real chat templates use, and may not load
     * other files.
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
        boolean systemRole = new ChatTemplate(name, source, bosToken, eosToken, false, false, limits, engine, true)
                .acceptsSystemRole();
        return new ChatTemplate(name, source, bosToken, eosToken, false, false, limits, engine, systemRole);
    }

    /**
     * The clock {@code strftime_now} reads, in its time zone (by default the system clock in the
     * local zone, like llama.cpp and transformers).
     */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(name, source, bosToken, eosToken, tokenizerAddsBos, tokenizerAddsEos, limits,
                new JinjaEngine(Objects.requireNonNull(clock, "clock"), limits), systemRole, messageText);
    }

    /**
     * Passes every message's text through {@code messageText} before the template sees it. A model's
     * template gets its tokenizer's {@code markSpecialAsText}, so that control-token text in a
     * message is encoded as plain text and only the template's own text yields control tokens;
     * {@code UnaryOperator.identity()} trusts the messages (for callers that write them themselves).
     */
    public ChatTemplate withMessageText(UnaryOperator<String> messageText) {
        return new ChatTemplate(name, source, bosToken, eosToken, tokenizerAddsBos, tokenizerAddsEos, limits, engine,
                systemRole, Objects.requireNonNull(messageText, "messageText"));
    }

    /**
     * Renders for a tokenizer that adds BOS and/or EOS itself (encoding with add-special, as kvcache
     * and llama.cpp do): a leading {@code bos_token} and a trailing {@code eos_token} are removed
     * from the render, as llama.cpp removes them, so that the prompt does not get them twice.
     */
    public ChatTemplate forTokenizerAdding(boolean bos, boolean eos) {
        return new ChatTemplate(name, source, bosToken, eosToken, bos, eos, limits, engine, systemRole, messageText);
    }

    /**
     * The prompt for {@code messages}; with {@code addGenerationPrompt} it ends with the opening of
     * the assistant's turn, ready for generation.
     *
     * @throws ChatTemplateException when the template fails, passes a limit or calls raise_exception
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<ChatMessage> conversation = List.copyOf(messages);
        JinjaEngine.Result result = engine.render(source,
                variables(systemRole ? conversation : SystemRoleFolding.fold(conversation), addGenerationPrompt));
        if (result.failed()) {
            throw failure(result);
        }
        String prompt = result.output();
        if (tokenizerAddsBos && !bosToken.isEmpty() && prompt.startsWith(bosToken)) {
            prompt = prompt.substring(bosToken.length());
        }
        if (tokenizerAddsEos && !eosToken.isEmpty() && prompt.endsWith(eosToken)) {
            prompt = prompt.substring(0, prompt.length() - eosToken.length());
        }
        return prompt;
    }

    private Map<String, Object> variables(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("messages", messages.stream().map(this::asMap).toList());
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("bos_token", bosToken);
        variables.put("eos_token", eosToken);
        return variables;
    }

    /** Templates index messages as dicts: message['role'], message.content. */
    private Map<String, Object> asMap(ChatMessage message) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", message.role());
        map.put("content", messageText.apply(message.content()));
        return map;
    }

    /**
     * Whether a system message reaches the output. An expression that does not parse surfaces here
     * (Jinjava parses expressions when it first evaluates them); any other failure, raise_exception
     * included, means no system role, as for llama.cpp.
     */
    private boolean acceptsSystemRole() {
        JinjaEngine.Result result = engine.render(source,
                variables(List.of(ChatMessage.system(SYSTEM_NEEDLE), ChatMessage.user("<User Needle>")), false));
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
