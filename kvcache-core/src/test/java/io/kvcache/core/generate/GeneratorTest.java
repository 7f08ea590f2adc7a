package io.kvcache.core.generate;

import io.kvcache.core.ContextOverflowException;
import io.kvcache.core.SharedData;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.grammar.Grammar;
import io.kvcache.core.grammar.TokenGrammar;
import io.kvcache.core.grammar.TokenTrie;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Generation on the real tiny model, against llama.cpp's greedy output for the same prompt. */
class GeneratorTest {
    private static Model model;
    private static ComputePool pool;
    private static Generator generator;

    @BeforeAll
    static void load() {
        model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        pool = new ComputePool(2);
        generator = new Generator(model, new CpuForwardPass(model, pool));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
            pool.close();
        }
    }

    private static JsonNode firstGreedyReference() {
        return JsonMapper.shared().readTree(SharedData.require("reference/tinystories-656k.json").toFile())
                .path("greedy").get(0);
    }

    @Test
    void greedyTextAndIdsEqualLlamaCpp() {
        JsonNode ref = firstGreedyReference(); // its smallest top-1/top-2 margin is 0.015: no near-tie
        List<String> streamed = new ArrayList<>();
        GenerationResult result = generator.generate(ref.path("prompt_text").asString(), SamplingParams.greedy(32), 0,
                step -> streamed.add(step.text()));
        int[] expected = IntStream.range(0, ref.path("generated_ids").size())
                .map(i -> ref.path("generated_ids").get(i).asInt()).toArray();
        assertThat(result.promptTokens()).hasSize(ref.path("prompt_ids").size());
        assertThat(result.tokens()).containsExactly(expected);
        assertThat(result.text()).isEqualTo(ref.path("content").asString());
        assertThat(String.join("", streamed)).isEqualTo(result.text());
        assertThat(result.finishReason()).isEqualTo(FinishReason.MAX_TOKENS);
    }

    @Test
    void stopStringEndsGenerationBeforeIt() {
        GenerationResult result = generator.generate("Once upon a time", SamplingParams.greedy(64).withStop(List.of("Lily")), 0,
                step -> true);
        assertThat(result.text()).isEqualTo(", a little girl named ");
        assertThat(result.finishReason()).isEqualTo(FinishReason.STOP_STRING);
    }

    @Test
    void listenerCanCancel() {
        GenerationResult result = generator.generate("Once upon a time", SamplingParams.greedy(64), 0, step -> false);
        assertThat(result.tokens()).hasSize(1);
        assertThat(result.finishReason()).isEqualTo(FinishReason.CANCELLED);
    }

    @Test
    void topProbabilitiesAreSortedAndSumBelowOne() {
        GenerationResult result = generator.generate("Once upon a time", SamplingParams.greedy(3), 5, step -> true);
        for (GenerationStep step : result.steps()) {
            assertThat(step.top()).hasSize(5);
            assertThat(step.top().getFirst().id()).isEqualTo(step.token());
            assertThat(step.top().stream().mapToDouble(TokenProbability::probability).sum()).isBetween(0.0, 1.0);
            for (int i = 1; i < 5; i++) {
                assertThat(step.top().get(i).probability()).isLessThanOrEqualTo(step.top().get(i - 1).probability());
            }
        }
    }

    @Test
    void generationStopsAtAFullContext() {
        KvCache cache = new KvCache(model.config(), 10);
        GenerationResult result = generator.generate(cache, model.tokenizer().encode("Once upon a time", true, true),
                SamplingParams.greedy(50), 0, step -> true);
        assertThat(result.finishReason()).isEqualTo(FinishReason.CONTEXT_FULL);
        assertThat(cache.length()).isEqualTo(10);
        assertThat(result.promptTokens().length + result.tokens().length).isEqualTo(11);
    }

    @Test
    void maxTokensNearTheIntLimitDoesNotWrapOrAllocateForIt() {
        KvCache cache = new KvCache(model.config(), 10);
        GenerationResult result = generator.generate(cache, model.tokenizer().encode("Once upon a time", true, true),
                SamplingParams.greedy(Integer.MAX_VALUE), 0, step -> true);
        assertThat(result.finishReason()).isEqualTo(FinishReason.CONTEXT_FULL);
        assertThat(result.promptTokens().length + result.tokens().length).isEqualTo(11);
    }

    @Test
    void emptyAndOverlongPromptsAreRejected() {
        assertThatThrownBy(() -> generator.generate(new int[0], SamplingParams.greedy(4), 0, step -> true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        int[] tooLong = new int[model.config().contextLength() + 1];
        java.util.Arrays.fill(tooLong, 5);
        assertThatThrownBy(() -> generator.generate(tooLong, SamplingParams.greedy(4), 0, step -> true))
                .isInstanceOf(ContextOverflowException.class).hasMessageContaining("513 tokens").hasMessageContaining("512");
    }

    /** Held to a grammar, every sampled text is one of its documents, and generation ends where the document does. */
    @Test
    void constrainedGenerationFollowsTheGrammarAndEndsWithIt() {
        Grammar grammar = Grammar.parse("""
                root ::= name (" and " name)? " went to the " ("park" | "shop" | "big tree") "."
                name ::= "Lily" | "Tom" | "Ben"
                """);
        TokenGrammar tokens = new TokenGrammar(grammar, TokenTrie.of(model.tokenizer()));
        for (long seed = 0; seed < 8; seed++) {
            SamplingParams params = SamplingParams.greedy(40).withTemperature(1f).withTopK(0).withMinP(0f).withSeed(seed);
            GenerationResult result = generator.generate(model.tokenizer().encode("Once upon a time", true, true), params,
                    0, tokens.start(), step -> true);
            assertThat(grammar.matches(result.text())).as(result.text()).isTrue();
            assertThat(result.finishReason()).isEqualTo(FinishReason.DOCUMENT_COMPLETE);
        }
    }
}
