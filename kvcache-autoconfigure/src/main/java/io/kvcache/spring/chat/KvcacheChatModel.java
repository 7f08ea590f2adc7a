package io.kvcache.spring.chat;

import io.kvcache.core.ContextOverflowException;
import io.kvcache.core.chat.ToolCall;
import io.kvcache.core.chat.ToolCallException;
import io.kvcache.core.chat.ToolCallFormat;
import io.kvcache.core.chat.ToolDefinition;
import io.kvcache.core.generate.FinishReason;
import io.kvcache.core.generate.GenerationResult;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.grammar.TokenConstraint;
import io.kvcache.core.sampling.SamplingParams;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.observation.ChatModelObservationContext;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.ai.chat.observation.ChatModelObservationDocumentation;
import org.springframework.ai.chat.observation.DefaultChatModelObservationConvention;
import org.springframework.ai.chat.prompt.Prompt;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The Spring AI chat model of kvcache: renders the conversation with the model's chat template,
 * continues the stored conversation it names or whose text it extends (only new tokens are
 * evaluated), generates with the request's options laid over the default
 * {@link KvcacheChatOptions}, and reports usage, the finish reason and a
 * {@code gen_ai.client.operation} observation. Tools in the options are offered to the model
 * through its chat template; a reply that calls them comes back as an {@link AssistantMessage}
 * with its tool calls (finish reason {@code TOOL_CALLS}), which a {@code ChatClient}'s
 * tool-calling advisor runs before sending the results back as the next turn; a call the model
 * cannot make (a tool not offered, arguments not matching the schema's required properties) fails
 * the turn with a {@link ToolCallException} naming it. With {@code toolChoice} REQUIRED, an output
 * schema or a grammar in the options, the reply is held to it by constrained decoding (see
 * {@link KvcacheChatOptions}). Streaming emits one response per piece of text;
 * cancelling the subscription stops generation and discards the conversation. A request whose
 * prompt and max tokens do not fit the context a conversation may reach is refused; at most
 * {@code maxActive} conversations generate at once, within the engine's memory budget; others
 * wait up to {@code maxWait}, then are refused with a {@link ConversationLimitException}.
 *
 * <p>Built with {@link #builder()}; the Spring Boot auto-configuration builds it from the
 * {@code kvcache.chat.*} and {@code kvcache.sessions.*} properties.
 */
public class KvcacheChatModel implements ChatModel {
    private final KvcacheEngine engine;
    private final PromptRenderer renderer;
    private final KvcacheChatOptions defaults;
    private final Admission admission;
    private final ObservationRegistry observations;
    private final ChatModelObservationConvention convention;
    private final Generator generator;
    private final TurnObserver turns;
    private final OutputConstraints constraints;

    private KvcacheChatModel(Builder b) {
        this.engine = Objects.requireNonNull(b.engine, "a chat model needs an engine");
        this.renderer = b.renderer != null ? b.renderer : new PromptRenderer(engine.model());
        this.defaults = KvcacheChatOptions.defaults().mutate().model(engine.model().config().name()).build()
                .overlay(b.defaults);
        int maxTokens = defaults.getMaxTokens();
        if (maxTokens >= engine.contextLength()) {
            throw new IllegalArgumentException("kvcache.chat.max-tokens=" + maxTokens + " leaves no room for "
                    + "a prompt: a conversation may reach " + engine.contextLength() + " tokens (set by "
                    + engine.contextLimit() + "); lower it");
        }
        this.admission = new Admission(b.maxActive, b.maxWait, engine.budget());
        this.observations = b.observations;
        this.convention = b.convention;
        this.generator = new Generator(engine.model(), engine.transformer());
        this.turns = b.turns;
        this.constraints = new OutputConstraints(engine.model().tokenizer());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The default options, with the model's name; a {@code ChatClient} merges each request's options into a copy. */
    @Override
    public KvcacheChatOptions getOptions() {
        return defaults;
    }

    @Override
    public KvcacheChatOptions getDefaultOptions() {
        return defaults;
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        ChatModelObservationContext context = ChatModelObservationContext.builder().prompt(prompt).provider("kvcache").build();
        return ChatModelObservationDocumentation.CHAT_MODEL_OPERATION
                .observation(null, convention, () -> context, observations)
                .observe(() -> {
                    ChatResponse response = run(prompt, null);
                    context.setResponse(response);
                    return response;
                });
    }

    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        return Flux.<ChatResponse>create(sink -> {
            ChatModelObservationContext context = ChatModelObservationContext.builder().prompt(prompt)
                    .provider("kvcache").streaming(true).build();
            var observation = ChatModelObservationDocumentation.CHAT_MODEL_OPERATION
                    .observation(null, convention, () -> context, observations).start();
            try {
                ChatResponse last = run(prompt, sink);
                context.setResponse(last);
                if (!sink.isCancelled()) {
                    sink.next(last);
                    sink.complete();
                }
            } catch (RuntimeException e) {
                observation.error(e);
                sink.error(e);
            } finally {
                observation.stop();
            }
        }).subscribeOn(Schedulers.boundedElastic());
    }

    /**
     * One turn: is refused when the prompt and the reply it may have do not fit the context, waits
     * to be admitted, continues the best stored conversation, generates, and stores the
     * conversation again (or discards it when the stream was cancelled). With a {@code sink}, each
     * piece of text is emitted as it is decoded and the returned response only carries the finish
     * reason and usage.
     */
    private ChatResponse run(Prompt prompt, FluxSink<ChatResponse> sink) {
        KvcacheChatOptions options = defaults.overlay(prompt.getOptions());
        List<ToolDefinition> tools = options.getToolCallbacks().stream().map(c -> c.getToolDefinition())
                .map(d -> new ToolDefinition(d.name(), d.description(), d.inputSchema())).toList();
        String text = renderer.text(prompt.getInstructions(), tools);
        ToolCallFormat toolFormat = tools.isEmpty() ? null : renderer.toolCallFormat().orElseThrow();
        // A prompt extending a stored conversation's text reads that conversation's ids for it (the
        // reply's sampled ids, which encoding the reply's text again may not give), so the cache
        // holding them is found and continued; any other prompt is encoded from the start.
        String named = options.getConversationId();
        if (named != null) {
            // Another replica (or this one before a restart) may have held it: restored, only new tokens are evaluated.
            engine.conversations().loadShared(named);
        }
        int[] tokens = engine.conversations().extendedText(named, text)
                .map(held -> renderer.tokens(text, held))
                .orElseGet(() -> renderer.tokens(text));
        SamplingParams params = samplingParams(options);
        checkFits(tokens.length, params.maxTokens());
        TokenConstraint constraint = constraints.forTurn(options, tools, toolFormat,
                prompt.getInstructions().getLast() instanceof ToolResponseMessage).orElse(null);
        Admission.Ticket ticket = admission.admit(tokens.length + params.maxTokens());
        try {
            Conversations.Conversation conversation = engine.conversations().checkOut(tokens, named);
            // What the conversation's cache stands for after the turn; none when it was cancelled or failed.
            ConversationText held = null;
            try {
                // Reuse the common prefix; at least the last prompt token is evaluated again for its logits
                // (and everything, where a sliding-window layer no longer holds what that needs).
                int reused = conversation.cache().resumablePrefix(
                        Math.min(Conversations.commonPrefix(conversation.cache(), tokens), tokens.length - 1));
                conversation.cache().truncate(reused);
                int movedBefore = engine.policy().watched() ? conversation.cache().memory().guardrailMoves() : 0;
                int[] fresh = Arrays.copyOfRange(tokens, reused, tokens.length);
                long start = System.nanoTime();
                long[] firstToken = {0};
                ReplyText shown = new ReplyText(toolFormat);
                GenerationResult result = generator.generate(conversation.cache(), fresh, params, 0, constraint, step -> {
                    if (firstToken[0] == 0) {
                        firstToken[0] = System.nanoTime() - start;
                    }
                    if (sink == null) {
                        return true;
                    }
                    String piece = shown.append(step.text());
                    if (!piece.isEmpty()) {
                        sink.next(new ChatResponse(List.of(new Generation(new AssistantMessage(piece)))));
                    }
                    return !sink.isCancelled();
                });
                turns.turnCompleted(firstToken[0], result, reused);
                if (engine.policy().watched()) {
                    int moved = conversation.cache().memory().guardrailMoves() - movedBefore;
                    if (moved > 0) {
                        turns.guardrailMoved(moved);
                    }
                }
                if (result.finishReason() != FinishReason.CANCELLED) {
                    held = ConversationText.afterTurn(text, tokens, result, engine.model().tokenizer());
                }
                ToolCallFormat.Reply reply = toolFormat == null || result.finishReason() == FinishReason.CANCELLED
                        ? new ToolCallFormat.Reply(result.text(), List.of()) : toolFormat.parse(result.text(), tools);
                // A stream has shown the text before any call; its last response carries the rest.
                String rest = reply.calls().isEmpty() ? shown.heldBack() : "";
                return response(sink == null ? reply.text() : rest, reply.calls(), result, tokens.length,
                        conversation.id());
            } finally {
                if (held != null) {
                    engine.conversations().checkIn(conversation, held);
                } else {
                    engine.conversations().discard(conversation);
                }
            }
        } finally {
            ticket.close();
        }
    }

    /** Refuses a turn whose prompt and longest reply would pass the context a conversation may reach. */
    private void checkFits(int promptTokens, int maxTokens) {
        int context = engine.contextLength();
        if (promptTokens + 1 > context) {
            throw new ContextOverflowException("the prompt has " + promptTokens + " tokens, and a conversation may reach "
                    + context + " (set by " + engine.contextLimit() + ") with room for a reply; shorten the prompt");
        }
        if ((long) promptTokens + maxTokens > context) {
            throw new ContextOverflowException("the prompt's " + promptTokens + " tokens and up to " + maxTokens
                    + " generated ones make " + ((long) promptTokens + maxTokens) + ", more than the " + context
                    + " a conversation may reach (set by " + engine.contextLimit() + "); shorten the prompt or ask for "
                    + "at most " + (context - promptTokens) + " tokens (max tokens, kvcache.chat.max-tokens)");
        }
    }

    private ChatResponse response(String text, List<ToolCall> calls, GenerationResult result, int promptTokens,
                                  String conversation) {
        String finish = switch (result.finishReason()) {
            case END_OF_GENERATION, STOP_STRING, DOCUMENT_COMPLETE -> calls.isEmpty() ? "STOP" : "TOOL_CALLS";
            case MAX_TOKENS, CONTEXT_FULL -> "LENGTH";
            case CANCELLED -> "CANCELLED";
        };
        AssistantMessage message = AssistantMessage.builder().content(text)
                .toolCalls(calls.stream().map(c -> new AssistantMessage.ToolCall(c.id(), "function", c.name(),
                        c.arguments())).toList())
                .build();
        Generation generation = new Generation(message, ChatGenerationMetadata.builder().finishReason(finish).build());
        ChatResponseMetadata metadata = ChatResponseMetadata.builder()
                .id(conversation)
                .model(engine.model().config().name())
                .usage(new DefaultUsage(promptTokens, result.tokens().length))
                .build();
        return new ChatResponse(List.of(generation), metadata);
    }

    /** A request's options (laid over the defaults) as the engine's sampling settings. */
    private static SamplingParams samplingParams(KvcacheChatOptions o) {
        long seed = o.getSeed() != null ? o.getSeed() : ThreadLocalRandom.current().nextLong();
        return new SamplingParams(o.getTemperature().floatValue(), o.getTopK(), o.getTopP().floatValue(),
                o.getMinP().floatValue(), o.getRepetitionPenalty().floatValue(), 64, seed, o.getMaxTokens(),
                o.getStopSequences() == null ? List.of() : o.getStopSequences());
    }

    /** Builds a {@link KvcacheChatModel}; only the engine is required. */
    public static final class Builder {
        private KvcacheEngine engine;
        private PromptRenderer renderer;
        private KvcacheChatOptions defaults;
        private int maxActive = 2;
        private Duration maxWait = Duration.ofSeconds(60);
        private ObservationRegistry observations = ObservationRegistry.NOOP;
        private ChatModelObservationConvention convention = new DefaultChatModelObservationConvention();
        private TurnObserver turns = TurnObserver.NONE;

        private Builder() {
        }

        /** The running model and its conversations. */
        public Builder engine(KvcacheEngine engine) {
            this.engine = engine;
            return this;
        }

        /** How prompts become text and tokens; by default the model's own chat template. */
        public Builder renderer(PromptRenderer renderer) {
            this.renderer = renderer;
            return this;
        }

        /** Options a request's own options are laid over, themselves laid over {@link KvcacheChatOptions#defaults()}. */
        public Builder defaultOptions(KvcacheChatOptions defaults) {
            this.defaults = defaults;
            return this;
        }

        /** Conversations that generate at the same time (default 2); further requests wait. */
        public Builder maxActive(int maxActive) {
            if (maxActive < 1) {
                throw new IllegalArgumentException("kvcache.sessions.max-active=" + maxActive + " must be at least 1");
            }
            this.maxActive = maxActive;
            return this;
        }

        /** How long a request waits for a slot and for the memory budget before it is refused (default 60 s). */
        public Builder maxWait(Duration maxWait) {
            this.maxWait = Objects.requireNonNull(maxWait);
            return this;
        }

        public Builder observationRegistry(ObservationRegistry observations) {
            this.observations = Objects.requireNonNull(observations);
            return this;
        }

        /** How the {@code gen_ai.client.operation} observation is named and tagged. */
        public Builder observationConvention(ChatModelObservationConvention convention) {
            this.convention = Objects.requireNonNull(convention);
            return this;
        }

        /** Hears of each finished turn (e.g. kvcache's meters). */
        public Builder turnObserver(TurnObserver turns) {
            this.turns = Objects.requireNonNull(turns);
            return this;
        }

        public KvcacheChatModel build() {
            return new KvcacheChatModel(this);
        }
    }
}
