package io.kvcache.spring;

import io.kvcache.core.SharedData;
import io.kvcache.core.chat.ChatMessage;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
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
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The chat model on a GGUF that carries a chat template (qwen2-tiny: random weights, Qwen's template). */
class TemplatedChatTest {

    @Test
    void promptsAreRenderedByTheModelsTemplateAndFollowUpsReuseTheConversation() {
        KvcacheProperties properties = new KvcacheProperties();
        properties.getChat().setTemperature(0);
        properties.getChat().setMaxTokens(6);
        Model model = Model.load(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"));
        try (KvcacheEngine engine = new KvcacheEngine(model, new ComputePool(2), properties.policy(), 512, 1 << 24,
                Duration.ofMinutes(5))) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            PromptRenderer renderer = new PromptRenderer(model);
            KvcacheChatModel chat = new KvcacheChatModel(engine, renderer, properties, ObservationRegistry.NOOP,
                    new KvcacheMetrics(meters, engine));
            assertThat(renderer.hasTemplate()).isTrue();

            List<Message> first = List.of(new SystemMessage("You are brief."), new UserMessage("Name a colour."));
            String rendered = model.chatTemplate().orElseThrow()
                    .render(List.of(ChatMessage.system("You are brief."), ChatMessage.user("Name a colour.")), true);
            assertThat(rendered).isEqualTo("<|im_start|>system\nYou are brief.<|im_end|>\n<|im_start|>user\nName a colour."
                    + "<|im_end|>\n<|im_start|>assistant\n");
            int[] firstTokens = renderer.tokens(first);
            assertThat(firstTokens).containsExactly(model.tokenizer().encode(rendered, true, true));

            ChatResponse reply = chat.call(new Prompt(first));
            assertThat(reply.getMetadata().getUsage().getPromptTokens()).isEqualTo(firstTokens.length);
            KvCache cache = engine.conversation(reply.getMetadata().getId()).orElseThrow();
            assertThat(cache.length()).isGreaterThanOrEqualTo(firstTokens.length);

            List<Message> second = List.of(new SystemMessage("You are brief."), new UserMessage("Name a colour."),
                    new AssistantMessage(reply.getResult().getOutput().getText()), new UserMessage("Another one."));
            chat.call(new Prompt(second));
            // the whole first prompt, which the special tokens delimit, came from the stored cache
            assertThat(meters.get("kvcache.prompt.reused").summary().max()).isGreaterThanOrEqualTo(firstTokens.length);
        }
    }
}
