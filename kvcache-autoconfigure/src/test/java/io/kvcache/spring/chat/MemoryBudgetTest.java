package io.kvcache.spring.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.KvFootprint;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The context a budget allows and the reservations of running turns, on TinyStories-656K (context 512). */
class MemoryBudgetTest {
    /** Bytes per token of the full cache: 2 layers x 4 KV heads x fp16 key and value rows of 16. */
    private static final long FULL_PER_TOKEN = 8 * (2 * 16 + 2 * 16);
    /** Bytes of its positions whatever the length: one run (8 bytes) per head. */
    private static final long RUNS = 8 * 8;
    private static Model model;
    private static TokenClasses classes;

    @BeforeAll
    static void load() {
        model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        classes = TokenClasses.of(model.tokenizer());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static MemoryBudget budget(String policy, long bytes) {
        KvFootprint footprint = new KvFootprint(model.config(), KvCacheConfig.parse(policy, Map.of()));
        return new MemoryBudget(OptionalLong.of(bytes), footprint, 512, "the model's context length", policy);
    }

    @Test
    void theFullCacheReachesTheBudgetDividedByItsBytesPerToken() {
        MemoryBudget budget = budget("full", 100_000);
        assertThat(budget.contextLength()).isEqualTo((int) ((100_000 - RUNS) / FULL_PER_TOKEN)).isEqualTo(195);
        assertThat(budget.contextLimit()).isEqualTo("kvcache.memory.budget");
        assertThat(budget(("full"), 512 * FULL_PER_TOKEN + RUNS).contextLength()).isEqualTo(512);
    }

    /** Window keeps 4 sinks and 128 recent tokens, then stops growing: any budget that holds those leaves the model's context. */
    @Test
    void aWindowIsLimitedByTheContextAlone() {
        // its positions: one run until the first token leaves, then two (the sinks, the recent tokens)
        MemoryBudget budget = budget("window", 132 * FULL_PER_TOKEN + 2 * RUNS);
        assertThat(budget.contextLength()).isEqualTo(512);
        assertThat(budget.contextLimit()).isEqualTo("the model's context length");
        assertThat(budget("window", 131 * FULL_PER_TOKEN + 2 * RUNS).contextLength()).isEqualTo(131);
    }

    /** The context fits at every length on the way (checked one by one), and one token more would not. */
    @Test
    void everyPolicysContextIsTheLongestThatFitsAllTheWay() {
        for (String policy : new String[] {"full", "heavy-hitter", "adaptive", "mixed-precision", "span", "layer-condensed"}) {
            KvFootprint footprint = new KvFootprint(model.config(), KvCacheConfig.parse(policy, Map.of()));
            long bytes = footprint.bytesAt(300);
            int context = budget(policy, bytes).contextLength();
            assertThat(context).as(policy).isBetween(200, 511);
            for (int tokens = 1; tokens <= context; tokens++) {
                assertThat(footprint.bytesAt(tokens)).as(policy + " at " + tokens).isLessThanOrEqualTo(bytes);
            }
            long longer = 0;
            for (int tokens = 1; tokens <= context + 1; tokens++) {
                longer = Math.max(longer, footprint.bytesAt(tokens));
            }
            assertThat(longer).as(policy + ": one token more passes the budget").isGreaterThan(bytes);
        }
    }

    @Test
    void aBudgetTooSmallForTwoTokensOrNotPositiveIsRefusedNamingTheProperty() {
        assertThatThrownBy(() -> budget("full", 2 * FULL_PER_TOKEN + RUNS - 1))
                .hasMessageContaining("kvcache.memory.budget=1.1 KiB is too small for even a minimal conversation")
                .hasMessageContaining("kvcache.policy=full").hasMessageContaining("2 tokens hold 1.1 KiB");
        assertThat(budget("full", 2 * FULL_PER_TOKEN + RUNS).contextLength()).isEqualTo(2);
        assertThatThrownBy(() -> budget("full", 0)).hasMessageContaining("kvcache.memory.budget=0 bytes: the budget must be positive");
        assertThatThrownBy(() -> budget("full", -5)).hasMessageContaining("kvcache.memory.budget=-5 bytes");
    }

    @Test
    void turnsReserveTheirMemoryAndWaitForWhatOthersRelease() throws Exception {
        MemoryBudget budget = budget("full", 512 * FULL_PER_TOKEN + 2 * RUNS);
        long half = budget.bytesFor(256);
        assertThat(half).isEqualTo(256 * FULL_PER_TOKEN + RUNS);
        assertThat(budget.reserve(half, 0)).isTrue();
        assertThat(budget.reserve(half, 0)).isTrue();
        assertThat(budget.reserved()).isEqualTo(512 * FULL_PER_TOKEN + 2 * RUNS);
        assertThat(budget.reserve(budget.bytesFor(1), TimeUnit.MILLISECONDS.toNanos(50))).as("nothing left").isFalse();

        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return budget.reserve(budget.bytesFor(100), TimeUnit.SECONDS.toNanos(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(100);
        assertThat(waiting).isNotDone();
        budget.release(half);
        assertThat(waiting.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(budget.reserved()).isEqualTo(half + 100 * FULL_PER_TOKEN + RUNS);
    }

    @Test
    void withoutABudgetNothingIsReservedAndTheContextIsTheConfiguredOne() throws Exception {
        KvFootprint footprint = new KvFootprint(model.config(), KvCacheConfig.full());
        MemoryBudget none = new MemoryBudget(OptionalLong.empty(), footprint, 300, "kvcache.model.context-length", "full");
        assertThat(none.contextLength()).isEqualTo(300);
        assertThat(none.contextLimit()).isEqualTo("kvcache.model.context-length");
        assertThat(none.bytesFor(300)).isZero();
        assertThat(none.reserve(Long.MAX_VALUE, 0)).isTrue();
        assertThat(none.reserved()).isZero();
    }
}
