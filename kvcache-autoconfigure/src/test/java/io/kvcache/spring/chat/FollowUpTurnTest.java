package io.kvcache.spring.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.generate.GenerationResult;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.core.tensor.ComputePool;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.spring.actuate.KvcacheMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static io.kvcache.spring.chat.FreshCacheReplay.assertAnswersAsAFreshCache;
import static io.kvcache.spring.chat.FreshCacheReplay.concat;
import static io.kvcache.spring.chat.FreshCacheReplay.tokens;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Follow-up turns on TinyStories (no chat template): the history's text extends the first turn's
 * prompt and reply, so the second turn reads the ids the first one evaluated and sampled, and
 * evaluates only the tokens of the new text, with the answer a fresh cache gives for those ids (see
 * {@link FreshCacheReplay}).
 */
class FollowUpTurnTest {
    private static final int MAX_TOKENS = 24;
    private static KvcacheEngine engine;
    private static KvcacheChatModel chat;
    private static PromptRenderer renderer;
    private static Tokenizer tokenizer;
    private static SimpleMeterRegistry meters;

    @BeforeAll
    static void start() {
        Model model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        engine = new KvcacheEngine(model, new ComputePool(2), KvCacheConfig.full(), 512, 1 << 24, Duration.ofMinutes(5));
        meters = new SimpleMeterRegistry();
        renderer = new PromptRenderer(model);
        tokenizer = model.tokenizer();
        chat = KvcacheChatModel.builder().engine(engine).renderer(renderer)
                .defaultOptions(KvcacheChatOptions.builder().temperature(0.0).maxTokens(MAX_TOKENS).build())
                .turnObserver(new KvcacheMetrics(meters, engine)).build();
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    /**
     * The reply here, encoded again as text, gives other ids than the sampled ones from its 15th
     * token on: matching the new prompt's encoding by token prefix would evaluate the rest again.
     */
    @Test
    void aFollowUpTurnEvaluatesOnlyTheTokensAfterThePreviousPromptAndReply() {
        String first = "The cat sat on the mat and";
        int[] firstTokens = tokenizer.encode(first, true, false);
        GenerationResult expectedReply = fromScratch(firstTokens, SamplingParams.greedy(MAX_TOKENS));
        ChatResponse reply = chat.call(new Prompt(new UserMessage(first)));
        String replyText = reply.getResult().getOutput().getText();
        assertThat(replyText).isEqualTo(expectedReply.text());

        List<Message> history = List.of(new UserMessage(first), new AssistantMessage(replyText), new UserMessage("It was warm."));
        String text = renderer.text(history);
        assertThat(text).as("the reply continues the prompt; the next message starts a line")
                .isEqualTo(first + replyText + "\nIt was warm.");
        int[] held = concat(firstTokens, withoutEndOfGeneration(expectedReply.tokens()));
        int[] expected = concat(held, tokenizer.encodeContinuation(text.substring(first.length() + replyText.length()), false));
        assertThat(Arrays.copyOf(renderer.tokens(history), held.length)).as("the reply's text encoded again").isNotEqualTo(held);

        Turn second = turn(history);
        assertThat(second.response().getMetadata().getId()).isEqualTo(reply.getMetadata().getId());
        assertThat(second.promptTokens()).isEqualTo(expected.length);
        assertThat(second.evaluated()).as("tokens evaluated in the second turn")
                .isBetween(expected.length - held.length, expected.length - held.length + 1);
        assertAnswersAsAFreshCache(engine, second.response(), expected, firstTokens.length, second.reused(),
                SamplingParams.greedy(MAX_TOKENS));
    }

    /**
     * A reply cut inside a token at a stop string: the ids up to the cut are continued, and the
     * kept part of the cut token's text is encoded again with the new message.
     */
    @Test
    void aReplyCutAtAStopStringIsContinuedFromTheIdsBeforeTheCut() {
        String first = "Lily had a red ball.";
        int[] firstTokens = tokenizer.encode(first, true, false);
        GenerationResult whole = fromScratch(firstTokens, SamplingParams.greedy(MAX_TOKENS));
        int cutToken = -1;
        String stop = null;
        int cut = 0;
        for (int i = 0, offset = 0; i < whole.tokens().length && cutToken < 0; i++) {
            String piece = tokenizer.decode(new int[] {whole.tokens()[i]});
            if (i > 0 && piece.length() >= 3 && whole.text().indexOf(piece.substring(1)) == offset + 1) {
                cutToken = i;
                stop = piece.substring(1);
                cut = offset + 1;
            }
            offset += piece.length();
        }
        assertThat(cutToken).as("a token of three characters or more in the reply").isPositive();

        ChatResponse reply = chat.call(new Prompt(new UserMessage(first), ChatOptions.builder().stopSequences(List.of(stop)).build()));
        String replyText = reply.getResult().getOutput().getText();
        assertThat(replyText).isEqualTo(whole.text().substring(0, cut));
        assertThat(reply.getResult().getMetadata().getFinishReason()).isEqualTo("STOP");

        List<Message> history = List.of(new UserMessage(first), new AssistantMessage(replyText), new UserMessage("Then it slept."));
        String text = renderer.text(history);
        int[] held = concat(firstTokens, Arrays.copyOf(whole.tokens(), cutToken));
        String spelled = tokenizer.decode(Arrays.copyOf(whole.tokens(), cutToken));
        int[] expected = concat(held, tokenizer.encodeContinuation(text.substring(first.length() + spelled.length()), false));

        Turn second = turn(history);
        assertThat(second.response().getMetadata().getId()).isEqualTo(reply.getMetadata().getId());
        assertThat(second.promptTokens()).isEqualTo(expected.length);
        assertThat(second.evaluated()).isEqualTo(expected.length - held.length);
        assertAnswersAsAFreshCache(engine, second.response(), expected, firstTokens.length, second.reused(),
                SamplingParams.greedy(MAX_TOKENS));
    }

    /**
     * A reply the client changed (here: cut to its first half) is not extended: without a name the
     * turn starts a conversation of its own and the stored one stays as it was; naming the stored
     * conversation continues it as far as the ids agree.
     */
    @Test
    void anEditedHistoryContinuesOnlyTheConversationItNames() {
        String first = "Tom and Sam went to the park to play.";
        int[] firstTokens = tokenizer.encode(first, true, false);
        ChatResponse reply = chat.call(new Prompt(new UserMessage(first)));
        String id = reply.getMetadata().getId();
        String replyText = reply.getResult().getOutput().getText();
        String edited = replyText.substring(0, replyText.length() / 2);
        int[] heldTokens = tokens(engine.conversation(id).orElseThrow());

        List<Message> history = List.of(new UserMessage(first), new AssistantMessage(edited), new UserMessage("The sun was warm."));
        int[] expected = renderer.tokens(history);
        int common = 0;
        while (common < Math.min(heldTokens.length, expected.length) && heldTokens[common] == expected[common]) {
            common++;
        }
        assertThat(common).as("the prompt shares more than the first prompt, not the whole conversation")
                .isGreaterThan(firstTokens.length).isLessThan(heldTokens.length);

        Turn anonymous = turn(new Prompt(history));
        assertThat(anonymous.response().getMetadata().getId()).isNotEqualTo(id);
        assertThat(anonymous.reused()).isZero();
        assertThat(tokens(engine.conversation(id).orElseThrow())).as("the stored conversation is untouched")
                .containsExactly(heldTokens);

        Turn named = turn(new Prompt(history, KvcacheChatOptions.builder().conversationId(id).build()));
        assertThat(named.response().getMetadata().getId()).isEqualTo(id);
        assertThat(named.promptTokens()).isEqualTo(expected.length);
        assertThat(named.evaluated()).isEqualTo(expected.length - common);
        assertAnswersAsAFreshCache(engine, named.response(), expected, firstTokens.length, named.reused(),
                SamplingParams.greedy(MAX_TOKENS));
    }

    /** A name no stored conversation has starts a conversation under that name. */
    @Test
    void aNewNameStartsAConversationUnderIt() {
        String prompt = "Ben found a shiny stone.";
        Turn turn = turn(new Prompt(new UserMessage(prompt), KvcacheChatOptions.builder().conversationId("bens-stone").build()));
        assertThat(turn.response().getMetadata().getId()).isEqualTo("bens-stone");
        assertThat(turn.reused()).isZero();
        assertThat(engine.conversation("bens-stone")).isPresent();
    }

    /** A cancelled stream stores nothing, so the same prompt again starts from an empty cache. */
    @Test
    void aCancelledStreamLeavesNothingToContinue() throws InterruptedException {
        String prompt = "A little bird sang in the tree.";
        int stored = engine.memory().size();
        assertThat(chat.stream(new Prompt(new UserMessage(prompt))).take(1).collectList().block()).hasSize(1);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (engine.memory().size() != stored && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(engine.memory()).hasSize(stored);

        int[] tokens = tokenizer.encode(prompt, true, false);
        Turn again = turn(List.of(new UserMessage(prompt)));
        assertThat(again.reused()).isZero();
        assertAnswersAsAFreshCache(engine, again.response(), tokens, tokens.length, 0, SamplingParams.greedy(MAX_TOKENS));
    }

    /** One call, with its prompt's tokens and how many of them were taken from a stored cache. */
    private record Turn(ChatResponse response, int promptTokens, int reused) {
        /** Prompt tokens evaluated in this turn. */
        int evaluated() {
            return promptTokens - reused;
        }
    }

    private static Turn turn(List<Message> history) {
        return turn(new Prompt(history));
    }

    private static Turn turn(Prompt prompt) {
        double reusedBefore = meters.get("kvcache.prompt.reused").summary().totalAmount();
        ChatResponse response = chat.call(prompt);
        int reused = (int) (meters.get("kvcache.prompt.reused").summary().totalAmount() - reusedBefore);
        int promptTokens = response.getMetadata().getUsage().getPromptTokens();
        return new Turn(response, promptTokens, reused);
    }

    private static GenerationResult fromScratch(int[] prompt, SamplingParams params) {
        return new Generator(engine.model(), engine.transformer())
                .generate(new KvCache(engine.model().config(), 512), prompt, params, 0, step -> true);
    }

    private static int[] withoutEndOfGeneration(int[] reply) {
        int n = reply.length;
        return n > 0 && tokenizer.isEndOfGeneration(reply[n - 1]) ? Arrays.copyOf(reply, n - 1) : reply;
    }
}
