package io.kvcache.spring;

import io.kvcache.core.ContextOverflowException;
import io.kvcache.core.generate.FinishReason;
import io.kvcache.core.generate.GenerationResult;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.sampling.SamplingParams;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.observation.ChatModelObservationContext;
import org.springframework.ai.chat.observation.ChatModelObservationDocumentation;
import org.springframework.ai.chat.observation.DefaultChatModelObservationConvention;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Schedulers;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The Spring AI chat model of kvcache: renders the conversation with the model's chat template,
 * continues the stored conversation whose text it extends, or else the one that shares the longest
 * token prefix with it (only new tokens are evaluated), generates with the request's options
 * merged over {@code kvcache.chat.*}, and reports usage, the finish reason and a {@code gen_ai.client.operation} observation. Streaming
 * emits one response per piece of text; cancelling the subscription stops generation and
 * discards the conversation. A request whose prompt and max tokens do not fit the context a
 * conversation may reach is refused; at most {@code kvcache.sessions.max-active} conversations
 * generate at once, within {@code kvcache.memory.budget}; others wait up to
 * {@code kvcache.sessions.max-wait}, then are refused (see {@link Admission}).
 */
public class KvcacheChatModel implements ChatModel {
    private static final DefaultChatModelObservationConvention OBSERVATION = new DefaultChatModelObservationConvention();

    private final KvcacheEngine engine;
    private final PromptRenderer renderer;
    private final KvcacheProperties.Chat defaults;
    private final Admission admission;
    private final ObservationRegistry observations;
    private final Generator generator;
    private final KvcacheMetrics metrics;

    public KvcacheChatModel(KvcacheEngine engine, PromptRenderer renderer, KvcacheProperties properties,
                            ObservationRegistry observations, KvcacheMetrics metrics) {
        this.engine = engine;
        this.renderer = renderer;
        this.defaults = properties.getChat();
        if (defaults.getMaxTokens() >= engine.contextLength()) {
            throw new IllegalArgumentException("kvcache.chat.max-tokens=" + defaults.getMaxTokens() + " leaves no room for "
                    + "a prompt: a conversation may reach " + engine.contextLength() + " tokens (set by "
                    + engine.contextLimit() + "); lower it");
        }
        this.admission = new Admission(properties.getSessions().getMaxActive(), properties.getSessions().getMaxWait(),
                engine.budget());
        this.observations = observations;
        this.generator = new Generator(engine.model(), engine.transformer());
        this.metrics = metrics;
    }

    @Override
    public ChatOptions getOptions() {
        return ChatOptions.builder()
                .model(engine.model().config().name())
                .temperature(defaults.getTemperature())
                .topP(defaults.getTopP())
                .topK(defaults.getTopK())
                .maxTokens(defaults.getMaxTokens())
                .stopSequences(defaults.getStop())
                .build();
    }

    @Override
    public ChatOptions getDefaultOptions() {
        return getOptions();
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        ChatModelObservationContext context = ChatModelObservationContext.builder().prompt(prompt).provider("kvcache").build();
        return ChatModelObservationDocumentation.CHAT_MODEL_OPERATION
                .observation(null, OBSERVATION, () -> context, observations)
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
                    .observation(null, OBSERVATION, () -> context, observations).start();
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
        String text = renderer.text(prompt.getInstructions());
        // A prompt extending a stored conversation's text reads that conversation's ids for it (the
        // reply's sampled ids, which encoding the reply's text again may not give), so the cache
        // holding them is found and continued; any other prompt is encoded from the start.
        int[] tokens = engine.conversations().longestExtendedBy(text)
                .map(held -> renderer.tokens(text, held))
                .orElseGet(() -> renderer.tokens(text));
        SamplingParams params = samplingParams(prompt.getOptions());
        checkFits(tokens.length, params.maxTokens());
        Admission.Ticket ticket = admission.admit(tokens.length + params.maxTokens());
        try {
            Conversations.Conversation conversation = engine.conversations().checkOut(tokens);
            // What the conversation's cache stands for after the turn; none when it was cancelled or failed.
            ConversationText held = null;
            try {
                // Reuse the common prefix; at least the last prompt token is evaluated again for its logits.
                int reused = Math.min(Conversations.commonPrefix(conversation.cache(), tokens), tokens.length - 1);
                conversation.cache().truncate(reused);
                int[] fresh = Arrays.copyOfRange(tokens, reused, tokens.length);
                long start = System.nanoTime();
                long[] firstToken = {0};
                GenerationResult result = generator.generate(conversation.cache(), fresh, params, 0, step -> {
                    if (firstToken[0] == 0) {
                        firstToken[0] = System.nanoTime() - start;
                    }
                    if (sink == null) {
                        return true;
                    }
                    if (!step.text().isEmpty()) {
                        sink.next(new ChatResponse(List.of(new Generation(new AssistantMessage(step.text())))));
                    }
                    return !sink.isCancelled();
                });
                metrics.recordTurn(firstToken[0], result, reused);
                if (result.finishReason() != FinishReason.CANCELLED) {
                    held = ConversationText.afterTurn(text, tokens, result, engine.model().tokenizer());
                }
                return response(sink == null ? result.text() : "", result, tokens.length, conversation.id());
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
        if (promptTokens + maxTokens > context) {
            throw new ContextOverflowException("the prompt's " + promptTokens + " tokens and up to " + maxTokens
                    + " generated ones make " + (promptTokens + maxTokens) + ", more than the " + context
                    + " a conversation may reach (set by " + engine.contextLimit() + "); shorten the prompt or ask for "
                    + "at most " + (context - promptTokens) + " tokens (max tokens, kvcache.chat.max-tokens)");
        }
    }

    private ChatResponse response(String text, GenerationResult result, int promptTokens, String conversation) {
        String finish = switch (result.finishReason()) {
            case END_OF_GENERATION, STOP_STRING -> "STOP";
            case MAX_TOKENS, CONTEXT_FULL -> "LENGTH";
            case CANCELLED -> "CANCELLED";
        };
        Generation generation = new Generation(new AssistantMessage(text),
                ChatGenerationMetadata.builder().finishReason(finish).build());
        ChatResponseMetadata metadata = ChatResponseMetadata.builder()
                .id(conversation)
                .model(engine.model().config().name())
                .usage(new DefaultUsage(promptTokens, result.tokens().length))
                .build();
        return new ChatResponse(List.of(generation), metadata);
    }

    /** The request's options over {@code kvcache.chat.*}. */
    private SamplingParams samplingParams(ChatOptions request) {
        double temperature = pick(request == null ? null : request.getTemperature(), defaults.getTemperature());
        double topP = pick(request == null ? null : request.getTopP(), defaults.getTopP());
        int topK = request != null && request.getTopK() != null ? request.getTopK() : defaults.getTopK();
        int maxTokens = request != null && request.getMaxTokens() != null ? request.getMaxTokens() : defaults.getMaxTokens();
        List<String> stop = request != null && request.getStopSequences() != null && !request.getStopSequences().isEmpty()
                ? request.getStopSequences() : defaults.getStop();
        long seed = defaults.getSeed() != null ? defaults.getSeed() : ThreadLocalRandom.current().nextLong();
        return new SamplingParams((float) temperature, topK, (float) topP, (float) defaults.getMinP(),
                (float) defaults.getRepetitionPenalty(), 64, seed, maxTokens, stop);
    }

    private static double pick(Double request, double fallback) {
        return request != null ? request : fallback;
    }

    /** The turn could not start: no conversation slot, or not enough of the memory budget, became free in time. */
    public static final class ConversationLimitException extends IllegalStateException {
        ConversationLimitException(String message) {
            super(message);
        }
    }
}
