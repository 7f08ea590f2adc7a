package io.kvcache.spring.chat;

import io.kvcache.core.ContextOverflowException;
import io.kvcache.core.SharedData;
import io.kvcache.core.cpu.CpuBackend;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.core.tensor.ComputePool;
import io.kvcache.spring.actuate.KvcacheMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.observation.ChatModelObservationContext;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Many callers at once through the chat model on TinyStories-656K, with a memory budget that
 * holds two short conversations (full cache: 512 bytes a token and 64 bytes of positions, so 37,500
 * bytes allow 73 tokens and two conversations of 34).
 */
class ConcurrentCallersTest {
    private static final int MAX_TOKENS = 24;
    private static final long BUDGET = 37_500;
    private static Model model;
    private static KvcacheEngine engine;
    private static Generator reference;

    @BeforeAll
    static void start() {
        model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        engine = new KvcacheEngine(model, new CpuBackend(model, new ComputePool(2)), KvCacheConfig.full(), 512, OptionalLong.of(BUDGET),
                new SessionSettings(1 << 24, Duration.ofMinutes(5), false), null);
        reference = new Generator(model, engine.transformer());
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    private static KvcacheChatModel chatModel(int maxActive, Duration maxWait, ObservationRegistry observations) {
        return KvcacheChatModel.builder().engine(engine)
                .defaultOptions(KvcacheChatOptions.builder().temperature(0.0).maxTokens(MAX_TOKENS).build())
                .maxActive(maxActive).maxWait(maxWait).observationRegistry(observations)
                .turnObserver(new KvcacheMetrics(new SimpleMeterRegistry(), engine)).build();
    }

    /** What greedy decoding of the prompt alone, in a fresh cache, generates. */
    private static String alone(String prompt, int maxTokens) {
        return reference.generate(engine.newSequence(), model.tokenizer().encode(prompt, true, false),
                SamplingParams.greedy(maxTokens), 0, step -> true).text();
    }

    @Test
    void twentyCallersGetTheirOwnAnswerOrAClearRefusalAndTheModelServesOn() throws Exception {
        assertThat(engine.contextLength()).isEqualTo((int) ((BUDGET - 64) / 512)).isEqualTo(73);
        KvcacheChatModel chat = chatModel(3, Duration.ofMillis(150), ObservationRegistry.NOOP);
        String[] animals = {"cat", "dog", "bird", "fish", "frog", "bear", "duck", "fox", "cow", "pig"};
        ExecutorService callers = Executors.newFixedThreadPool(20);
        try {
            List<String> prompts = new ArrayList<>();
            List<Future<ChatResponse>> replies = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String prompt = "Once upon a time, a little " + animals[i % animals.length] + (i < 10 ? " saw a" : " found a");
                // Every fifth caller asks for more tokens than the budget's context holds.
                int maxTokens = i % 5 == 4 ? 100 : MAX_TOKENS;
                prompts.add(prompt);
                replies.add(callers.submit(() -> chat.call(new Prompt(prompt, ChatOptions.builder().maxTokens(maxTokens).build()))));
            }
            int answered = 0;
            int busy = 0;
            for (int i = 0; i < 20; i++) {
                try {
                    ChatResponse reply = replies.get(i).get(60, TimeUnit.SECONDS);
                    assertThat(i % 5).as("caller " + i + " asked for too much to be answered").isNotEqualTo(4);
                    assertThat(reply.getResult().getOutput().getText()).as(prompts.get(i))
                            .isEqualTo(alone(prompts.get(i), MAX_TOKENS));
                    answered++;
                } catch (ExecutionException e) {
                    if (i % 5 == 4) {
                        assertThat(e.getCause()).isInstanceOf(ContextOverflowException.class)
                                .hasMessageContaining("more than the 73 a conversation may reach (set by kvcache.memory.budget)");
                    } else {
                        assertThat(e.getCause()).as("caller " + i).isInstanceOf(ConversationLimitException.class)
                                .hasMessageContaining("kvcache.sessions.max-wait=150ms");
                        busy++;
                    }
                }
            }
            assertThat(answered + busy).isEqualTo(16);
            assertThat(answered).isPositive();
        } finally {
            callers.shutdown();
        }
        assertThat(engine.budget().reserved()).as("every turn gave its memory back").isZero();
        String last = "Once upon a time, a big tree";
        assertThat(chat.call(new Prompt(last)).getResult().getOutput().getText()).isEqualTo(alone(last, MAX_TOKENS));
    }

    @Test
    void aPromptLongerThanTheContextIsRefusedNamingTheLimit() {
        KvcacheChatModel chat = chatModel(1, Duration.ofSeconds(5), ObservationRegistry.NOOP);
        String longPrompt = "Once upon a time there was a girl. ".repeat(20);
        int promptTokens = model.tokenizer().encode(longPrompt, true, false).length;
        assertThat(promptTokens).isGreaterThan(73);
        assertThatThrownBy(() -> chat.call(new Prompt(longPrompt)))
                .isInstanceOf(ContextOverflowException.class)
                .hasMessage("the prompt has " + promptTokens + " tokens, and a conversation may reach 73 (set by "
                        + "kvcache.memory.budget) with room for a reply; shorten the prompt");
        assertThatThrownBy(() -> chat.stream(new Prompt(longPrompt)).blockLast())
                .isInstanceOf(ContextOverflowException.class);
        String shortPrompt = "Once upon a time";
        int shortTokens = model.tokenizer().encode(shortPrompt, true, false).length;
        assertThatThrownBy(() -> chat.call(new Prompt(shortPrompt, ChatOptions.builder().maxTokens(73).build())))
                .hasMessageContaining("and up to 73 generated ones make " + (shortTokens + 73))
                .hasMessageContaining("ask for at most " + (73 - shortTokens) + " tokens");
        // The sum is exact: max tokens near the int limit must not wrap around to a small number.
        assertThatThrownBy(() -> chat.call(new Prompt(shortPrompt, ChatOptions.builder().maxTokens(Integer.MAX_VALUE).build())))
                .isInstanceOf(ContextOverflowException.class)
                .hasMessageContaining("make " + (shortTokens + (long) Integer.MAX_VALUE));
    }

    /**
     * A subscriber that takes three pieces and cancels: generation stops within a few tokens (the
     * reply alone would run much longer), and with a single slot and no waiting allowed, the next
     * call is served at once.
     */
    @Test
    void cancellingAStreamStopsGenerationAndFreesItsSlot() throws Exception {
        String prompt = "Once upon a time";
        int room = engine.contextLength() - model.tokenizer().encode(prompt, true, false).length;
        int fullReply = model.tokenizer().encode(alone(prompt, room), false, false).length;
        assertThat(fullReply).as("the uncancelled reply is long").isGreaterThan(40);

        CompletableFuture<Integer> streamedTokens = new CompletableFuture<>();
        CountDownLatch stopped = new CountDownLatch(1);
        ObservationRegistry observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new ObservationHandler<ChatModelObservationContext>() {
            @Override
            public void onStop(ChatModelObservationContext context) {
                if (context.getRequest().getOptions() != null && context.getResponse() != null && !streamedTokens.isDone()) {
                    streamedTokens.complete(context.getResponse().getMetadata().getUsage().getCompletionTokens());
                    stopped.countDown();
                }
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return context instanceof ChatModelObservationContext;
            }
        });
        KvcacheChatModel chat = chatModel(1, Duration.ZERO, observations);
        List<String> pieces = chat.stream(new Prompt(prompt, ChatOptions.builder().maxTokens(room).build()))
                .map(r -> r.getResult().getOutput().getText()).take(3).collectList().block(Duration.ofSeconds(30));
        assertThat(pieces).hasSize(3);
        assertThat(stopped.await(30, TimeUnit.SECONDS)).as("the cancelled turn ended").isTrue();
        assertThat(streamedTokens.get()).as("tokens generated before the cancellation was seen").isLessThan(fullReply / 2);

        long start = System.nanoTime();
        ChatResponse next = chat.call(new Prompt("A dog ran"));
        assertThat(next.getResult().getOutput().getText()).isEqualTo(alone("A dog ran", MAX_TOKENS));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(engine.budget().reserved()).isZero();
    }
}
