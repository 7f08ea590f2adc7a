package io.kvcache.spring.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuBackend;
import io.kvcache.core.generate.GenerationResult;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.core.tensor.ComputePool;
import io.kvcache.spring.actuate.KvcacheMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

import static io.kvcache.spring.chat.FreshCacheReplay.tokens;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One caller's conversation is never continued, overwritten or evicted by another's request: a
 * stranger whose prompt shares a long start with a stored conversation (the same system prompt)
 * gets a conversation of its own, or with {@code share-prefixes} a copy of that prefix, while the
 * stored one stays exactly as it was.
 */
class ConversationIsolationTest {
    private static final int MAX_TOKENS = 12;
    /** The shared start: long enough that the two prompts share most of the owner's tokens. */
    private static final String SHARED = "Once upon a time, in a small town by the sea, there lived a kind old man who "
            + "loved to fish and tell stories to the children. One day";
    private static KvcacheEngine isolated;
    private static KvcacheEngine sharing;

    @BeforeAll
    static void start() {
        isolated = engine(false);
        sharing = engine(true);
    }

    /** An engine of its own model (an engine closes its model). */
    private static KvcacheEngine engine(boolean sharePrefixes) {
        Model model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        return new KvcacheEngine(model, new CpuBackend(model, new ComputePool(1)), KvCacheConfig.full(),
                512, OptionalLong.empty(), new SessionSettings(1 << 24, Duration.ofMinutes(5), sharePrefixes), null);
    }

    @AfterAll
    static void stop() {
        isolated.close();
        sharing.close();
    }

    private record Turn(ChatResponse response, int reused) {
    }

    private static Turn call(KvcacheEngine engine, SimpleMeterRegistry meters, KvcacheChatModel chat, String text) {
        double before = meters.get("kvcache.prompt.reused").summary().totalAmount();
        ChatResponse response = chat.call(new Prompt(new UserMessage(text)));
        return new Turn(response, (int) (meters.get("kvcache.prompt.reused").summary().totalAmount() - before));
    }

    private static KvcacheChatModel chat(KvcacheEngine engine, SimpleMeterRegistry meters) {
        return KvcacheChatModel.builder().engine(engine)
                .defaultOptions(KvcacheChatOptions.builder().temperature(0.0).maxTokens(MAX_TOKENS).build())
                .turnObserver(new KvcacheMetrics(meters, engine)).build();
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[n] == b[n]) {
            n++;
        }
        return n;
    }

    @Test
    void aStrangerWithTheSameStartGetsAConversationOfItsOwn() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        KvcacheChatModel chat = chat(isolated, meters);
        Turn owner = call(isolated, meters, chat, SHARED + " he caught a fish.");
        String ownerId = owner.response().getMetadata().getId();
        int[] ownerTokens = tokens(isolated.conversation(ownerId).orElseThrow());
        KvMemoryReport ownerMemory = isolated.conversation(ownerId).orElseThrow().memory();
        int[] strangerPrompt = isolated.model().tokenizer().encode(SHARED + " a girl came by.", true, false);
        assertThat(2 * commonPrefix(ownerTokens, strangerPrompt)).as("most of the owner's tokens are shared")
                .isGreaterThan(ownerTokens.length);

        Turn stranger = call(isolated, meters, chat, SHARED + " a girl came by.");
        assertThat(stranger.response().getMetadata().getId()).isNotEqualTo(ownerId);
        assertThat(stranger.reused()).as("nothing of the owner's cache is read").isZero();
        assertThat(tokens(isolated.conversation(ownerId).orElseThrow())).containsExactly(ownerTokens);
        assertThat(isolated.conversation(ownerId).orElseThrow().memory()).isEqualTo(ownerMemory);
    }

    /**
     * With share-prefixes the stranger reads the shared prefix from a copy of the owner's cache: its
     * reply is the one a cache built as the owner's was, cut to that prefix, gives; the owner's stays.
     */
    @Test
    void withSharedPrefixesAStrangerStartsFromACopyAndTheOwnerKeepsItsCache() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        KvcacheChatModel chat = chat(sharing, meters);
        String ownerText = SHARED + " he caught a big fish.";
        Turn owner = call(sharing, meters, chat, ownerText);
        String ownerId = owner.response().getMetadata().getId();
        int[] ownerTokens = tokens(sharing.conversation(ownerId).orElseThrow());
        KvMemoryReport ownerMemory = sharing.conversation(ownerId).orElseThrow().memory();

        String strangerText = SHARED + " a little girl came by.";
        int[] strangerPrompt = isolated.model().tokenizer().encode(strangerText, true, false);
        int shared = commonPrefix(ownerTokens, strangerPrompt);
        Turn stranger = call(sharing, meters, chat, strangerText);
        assertThat(stranger.response().getMetadata().getId()).isNotEqualTo(ownerId);
        assertThat(stranger.reused()).as("the shared prefix is read from the copy").isEqualTo(shared);
        assertThat(tokens(sharing.conversation(ownerId).orElseThrow())).containsExactly(ownerTokens);
        assertThat(sharing.conversation(ownerId).orElseThrow().memory()).isEqualTo(ownerMemory);

        // The copy: the owner's prompt evaluated at once, cut to the shared prefix, then the stranger's rest.
        Model model = sharing.model();
        ForwardPass pass = sharing.transformer();
        KvCache expectedCache = new KvCache(model.config(), 512);
        int[] ownerPrompt = model.tokenizer().encode(ownerText, true, false);
        pass.forward(expectedCache, ownerPrompt, 0, ownerPrompt.length, ForwardPass.Logits.LAST);
        expectedCache.truncate(shared);
        GenerationResult expected = new Generator(model, pass).generate(expectedCache,
                Arrays.copyOfRange(strangerPrompt, shared, strangerPrompt.length), SamplingParams.greedy(MAX_TOKENS), 0,
                step -> true);
        assertThat(stranger.response().getResult().getOutput().getText()).isEqualTo(expected.text());
    }

    /**
     * While a turn writes a conversation's cache, its memory reads as the cache held when the turn
     * began: the reports are taken at a point where no thread writes, never from a cache mid-step.
     */
    @Test
    void aRunningConversationReportsItsMemoryAsItsTurnBegan() {
        KvcacheChatModel chat = chat(isolated, new SimpleMeterRegistry());
        String first = SHARED + " he sang.";
        String id = chat.call(new Prompt(new UserMessage(first))).getMetadata().getId();
        KvMemoryReport before = isolated.memory(id).orElseThrow();
        assertThat(before).isEqualTo(isolated.conversation(id).orElseThrow().memory());

        List<KvMemoryReport> seenWhileRunning = new ArrayList<>();
        Prompt next = new Prompt(List.of(new UserMessage(first + " Then he sang again, louder.")),
                KvcacheChatOptions.builder().conversationId(id).build());
        // The subscriber runs on the generating thread between steps, when the cache has grown.
        chat.stream(next).doOnNext(piece -> {
            if (seenWhileRunning.isEmpty()) {
                assertThat(isolated.conversation(id).orElseThrow().length()).isGreaterThan(before.tokens());
                seenWhileRunning.add(isolated.memory(id).orElseThrow());
                seenWhileRunning.add(isolated.memory().get(id));
            }
        }).blockLast();

        assertThat(seenWhileRunning).containsExactly(before, before);
        assertThat(isolated.memory(id).orElseThrow().tokens()).isGreaterThan(before.tokens());
    }

    @Test
    void aNamedConversationTakesOneTurnAtATime() {
        Conversations store = new Conversations(new SessionSettings(1 << 20, Duration.ofMinutes(1), false),
                () -> new KvCache(isolated.model().config(), 64), null);
        int[] prompt = {1, 2, 3};
        Conversations.Conversation first = store.checkOut(prompt, "mine");
        assertThat(first.id()).isEqualTo("mine");
        assertThatThrownBy(() -> store.checkOut(prompt, "mine")).isInstanceOf(ConversationLimitException.class)
                .hasMessageContaining("mine").hasMessageContaining("turn running");
        assertThat(store.checkOut(prompt, null).id()).as("an anonymous turn never takes a running conversation")
                .isNotEqualTo("mine");
    }
}
