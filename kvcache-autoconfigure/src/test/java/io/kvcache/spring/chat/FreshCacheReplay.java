package io.kvcache.spring.chat;


import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.generate.GenerationResult;
import io.kvcache.core.generate.Generator;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.sampling.SamplingParams;
import org.springframework.ai.chat.model.ChatResponse;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a fresh cache gives for a continued turn's prompt, fed in the batches the turns evaluated it
 * in: the first turn's prompt at once, the ids that turn generated one at a time, the follow-up's new
 * ids at once. (Like llama.cpp, attention over a batch of 32 queries or more rounds otherwise than
 * over a smaller one, so one batch of the whole prompt may pick other ids where logits are close.)
 */
final class FreshCacheReplay {
    private FreshCacheReplay() {
    }

    /**
     * Asserts that {@code response}, a turn on {@code prompt} that took {@code reused} ids from a
     * stored cache whose first turn's prompt had {@code firstPrompt} ids, has the reply of a fresh
     * cache, and that its conversation's cache holds exactly those prompt and reply ids.
     */
    static void assertAnswersAsAFreshCache(KvcacheEngine engine, ChatResponse response, int[] prompt, int firstPrompt,
                                           int reused, SamplingParams params) {
        KvCache fresh = new KvCache(engine.model().config(), engine.contextLength());
        if (reused > 0) {
            assertThat(reused).as("the stored cache held the first turn's whole prompt").isGreaterThanOrEqualTo(firstPrompt);
            engine.transformer().forward(fresh, prompt, 0, firstPrompt, ForwardPass.Logits.LAST);
            for (int i = firstPrompt; i < reused; i++) {
                engine.transformer().forward(fresh, prompt, i, 1, ForwardPass.Logits.LAST);
            }
        }
        GenerationResult expected = new Generator(engine.model(), engine.transformer())
                .generate(fresh, Arrays.copyOfRange(prompt, reused, prompt.length), params, 0, step -> true);
        assertThat(response.getResult().getOutput().getText()).isEqualTo(expected.text());
        assertThat(response.getMetadata().getUsage().getCompletionTokens()).isEqualTo(expected.tokens().length);
        int[] held = tokens(engine.conversation(response.getMetadata().getId()).orElseThrow());
        assertThat(held).as("the conversation's cache holds the prompt's and the reply's ids")
                .containsExactly(Arrays.copyOf(concat(prompt, expected.tokens()), held.length));
        assertThat(held.length).isGreaterThanOrEqualTo(prompt.length + expected.tokens().length - 1);
    }

    static int[] tokens(Sequence cache) {
        return IntStream.range(0, cache.length()).map(cache::token).toArray();
    }

    static int[] concat(int[] a, int[] b) {
        return IntStream.concat(Arrays.stream(a), Arrays.stream(b)).toArray();
    }
}
