package io.kvcache.spring.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.chat.ChatMessage;
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
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static io.kvcache.spring.chat.FreshCacheReplay.assertAnswersAsAFreshCache;
import static io.kvcache.spring.chat.FreshCacheReplay.concat;
import static org.assertj.core.api.Assertions.assertThat;

/** The chat model on a GGUF that carries a chat template (qwen2-tiny: random weights, Qwen's template). */
class TemplatedChatTest {
    private static final int MAX_TOKENS = 24;

    /**
     * The follow-up turn's text is the first prompt, the reply, and what the template writes after
     * it ({@code <|im_end|>} and the new user turn): the turn reads the first turn's ids and the
     * reply's sampled ids, evaluates only the ids of that new text, and answers as a fresh cache does
     * (see {@link FreshCacheReplay}). The reply here, encoded again as text, differs from the sampled
     * ids from its first token: matching by token prefix would share less than half of the stored
     * conversation and evaluate the whole prompt again.
     */
    @Test
    void promptsAreRenderedByTheModelsTemplateAndFollowUpsEvaluateOnlyTheNewTokens() {
        Model model = Model.load(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"));
        try (KvcacheEngine engine = new KvcacheEngine(model, new ComputePool(2), KvCacheConfig.full(), 512, 1 << 24,
                Duration.ofMinutes(5))) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            PromptRenderer renderer = new PromptRenderer(model);
            Tokenizer tokenizer = model.tokenizer();
            KvcacheChatModel chat = KvcacheChatModel.builder().engine(engine).renderer(renderer)
                    .defaultOptions(KvcacheChatOptions.builder().temperature(0.0).maxTokens(MAX_TOKENS).build())
                    .turnObserver(new KvcacheMetrics(meters, engine)).build();
            assertThat(renderer.hasTemplate()).isTrue();

            List<Message> first = List.of(new SystemMessage("You are brief."), new UserMessage("x"));
            String rendered = model.chatTemplate().orElseThrow()
                    .render(List.of(ChatMessage.system("You are brief."), ChatMessage.user("x")), true);
            assertThat(rendered).isEqualTo("<|im_start|>system\nYou are brief.<|im_end|>\n<|im_start|>user\nx"
                    + "<|im_end|>\n<|im_start|>assistant\n");
            assertThat(renderer.text(first)).isEqualTo(rendered);
            int[] firstTokens = renderer.tokens(first);
            assertThat(firstTokens).containsExactly(tokenizer.encode(rendered, true, true));

            GenerationResult expectedReply = fromScratch(engine, firstTokens);
            ChatResponse reply = chat.call(new Prompt(first));
            String replyText = reply.getResult().getOutput().getText();
            assertThat(replyText).isEqualTo(expectedReply.text());
            assertThat(reply.getMetadata().getUsage().getPromptTokens()).isEqualTo(firstTokens.length);
            int[] replyIds = expectedReply.tokens();
            if (tokenizer.isEndOfGeneration(replyIds[replyIds.length - 1])) {
                replyIds = Arrays.copyOf(replyIds, replyIds.length - 1);
            }
            assertThat(tokenizer.decode(replyIds)).as("every reply id spells the reply's text").isEqualTo(replyText);

            List<Message> second = List.of(new SystemMessage("You are brief."), new UserMessage("x"),
                    new AssistantMessage(replyText), new UserMessage("Another one."));
            String text = renderer.text(second);
            assertThat(text).startsWith(rendered + replyText + "<|im_end|>\n<|im_start|>user\nAnother one.");
            int[] held = concat(firstTokens, replyIds);
            int[] expected = concat(held, tokenizer.encodeContinuation(text.substring(rendered.length() + replyText.length()), true));
            assertThat(renderer.tokens(second)[firstTokens.length]).as("the reply's text encoded again")
                    .isNotEqualTo(held[firstTokens.length]);

            double reusedBefore = meters.get("kvcache.prompt.reused").summary().totalAmount();
            ChatResponse next = chat.call(new Prompt(second));
            int reused = (int) (meters.get("kvcache.prompt.reused").summary().totalAmount() - reusedBefore);
            int promptTokens = next.getMetadata().getUsage().getPromptTokens();
            assertThat(next.getMetadata().getId()).isEqualTo(reply.getMetadata().getId());
            assertThat(promptTokens).isEqualTo(expected.length);
            assertThat(promptTokens - reused).as("tokens evaluated in the second turn")
                    .isBetween(expected.length - held.length, expected.length - held.length + 1);

            assertAnswersAsAFreshCache(engine, next, expected, firstTokens.length, reused, SamplingParams.greedy(MAX_TOKENS));
        }
    }

    private static GenerationResult fromScratch(KvcacheEngine engine, int[] prompt) {
        return new Generator(engine.model(), engine.transformer())
                .generate(new KvCache(engine.model().config(), 512), prompt, SamplingParams.greedy(MAX_TOKENS), 0, step -> true);
    }
}
