package io.kvcache.spring.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.spring.actuate.KvcacheMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The chat model on TinyStories (no chat template: the messages' text is the prompt). */
class KvcacheChatModelTest {
    private static KvcacheEngine engine;
    private static KvcacheChatModel chat;
    private static SimpleMeterRegistry meters;
    private static final List<String> observed = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        engine = new KvcacheEngine(io.kvcache.core.model.Model.load(SharedData.require("models/tiny/tinystories-656k.gguf")),
                new io.kvcache.core.tensor.ComputePool(2), KvCacheConfig.full(), 512, 1 << 24, Duration.ofMinutes(5));
        ObservationRegistry observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public void onStop(Observation.Context context) {
                observed.add(context.getName());
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
        meters = new SimpleMeterRegistry();
        chat = KvcacheChatModel.builder().engine(engine)
                .defaultOptions(KvcacheChatOptions.builder().temperature(0.0).maxTokens(24).build()).maxActive(1)
                .observationRegistry(observations).turnObserver(new KvcacheMetrics(meters, engine)).build();
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    private static final String STORY = "Once upon a time, there was a little girl named Lily.";

    @Test
    void aCallGeneratesWhatTheEngineGeneratesWithUsageAndFinishReason() {
        ChatResponse response = chat.call(new Prompt(new UserMessage(STORY)));
        int[] prompt = engine.model().tokenizer().encode(STORY, true, false);
        var expected = new Generator(engine.model(), engine.transformer())
                .generate(new KvCache(engine.model().config(), 512), prompt, SamplingParams.greedy(24), 0, step -> true);
        assertThat(response.getResult().getOutput().getText()).isEqualTo(expected.text());
        assertThat(response.getMetadata().getUsage().getPromptTokens()).isEqualTo(prompt.length);
        assertThat(response.getMetadata().getUsage().getCompletionTokens()).isEqualTo(expected.tokens().length);
        assertThat(response.getResult().getMetadata().getFinishReason()).isIn("LENGTH", "STOP");
        assertThat(observed).contains("gen_ai.client.operation");
    }

    /** A request's own options (the engine's min-p and seed included) over the defaults give the engine's sampling. */
    @Test
    void aRequestsKvcacheOptionsSampleAsTheEngineDoesWithThem() {
        String text = "A little bird sang in the tree.";
        KvcacheChatOptions options = KvcacheChatOptions.builder().temperature(0.9).topK(20).minP(0.1).seed(123L)
                .maxTokens(16).build();
        ChatResponse response = chat.call(new Prompt(new UserMessage(text), options));
        int[] prompt = engine.model().tokenizer().encode(text, true, false);
        // defaults: top-p 0.95 and no repetition penalty (KvcacheChatOptions.defaults()), no stop sequences
        SamplingParams params = new SamplingParams(0.9f, 20, 0.95f, 0.1f, 1.0f, 64, 123L, 16, List.of());
        var expected = new Generator(engine.model(), engine.transformer())
                .generate(new KvCache(engine.model().config(), 512), prompt, params, 0, step -> true);
        assertThat(response.getResult().getOutput().getText()).isEqualTo(expected.text());
        assertThat(response.getMetadata().getUsage().getCompletionTokens()).isEqualTo(expected.tokens().length);
        assertThat(chat.call(new Prompt(new UserMessage(text), options)).getResult().getOutput().getText())
                .as("the same seed again").isEqualTo(expected.text());
    }

    @Test
    void streamingGivesTheEnginesTextPieceByPieceAndCancellingFreesTheConversation() throws InterruptedException {
        String prompt = "The cat sat on the mat and";
        List<String> pieces = chat.stream(new Prompt(new UserMessage(prompt))).map(r -> r.getResult().getOutput().getText())
                .collectList().block();
        int[] ids = engine.model().tokenizer().encode(prompt, true, false);
        var expected = new Generator(engine.model(), engine.transformer())
                .generate(new KvCache(engine.model().config(), 512), ids, SamplingParams.greedy(24), 0, step -> true);
        assertThat(pieces.size()).isGreaterThan(2);
        assertThat(String.join("", pieces)).isEqualTo(expected.text());

        int stored = engine.memory().size();
        assertThat(chat.stream(new Prompt(new UserMessage("A dog ran to the"))).take(1).collectList().block()).hasSize(1);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (engine.memory().size() != stored && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(engine.memory().size()).as("the cancelled turn's conversation is gone").isEqualTo(stored);
    }

    @Test
    void parallelCallersAreServedOneAtATimeAndAllAnswered() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<ChatResponse>> replies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String text = "Story number " + i + ": a bird";
                replies.add(pool.submit(() -> chat.call(new Prompt(new UserMessage(text)))));
            }
            for (Future<ChatResponse> reply : replies) {
                assertThat(reply.get().getMetadata().getUsage().getCompletionTokens()).isPositive();
            }
        } finally {
            pool.shutdown();
        }
    }

    /** A session store too small for any conversation evicts each one as it is stored, and the gauge counts them. */
    @Test
    void conversationsTheSessionStoreCannotHoldAreEvictedAndCounted() throws InterruptedException {
        try (KvcacheEngine small = new KvcacheEngine(io.kvcache.core.model.Model.load(
                SharedData.require("models/tiny/tinystories-656k.gguf")), new io.kvcache.core.tensor.ComputePool(1),
                KvCacheConfig.full(), 512, 1, Duration.ofMinutes(5))) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            KvcacheChatModel model = KvcacheChatModel.builder().engine(small)
                    .defaultOptions(KvcacheChatOptions.builder().temperature(0.0).maxTokens(8).build())
                    .turnObserver(new KvcacheMetrics(registry, small)).build();
            model.call(new Prompt(new UserMessage("A frog sat on a log.")));
            model.call(new Prompt(new UserMessage("The sun was hot and bright.")));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (small.evictions() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(registry.get("kvcache.sessions.evictions").gauge().value()).isEqualTo(2.0);
            assertThat(small.memory()).isEmpty();
        }
    }
}
