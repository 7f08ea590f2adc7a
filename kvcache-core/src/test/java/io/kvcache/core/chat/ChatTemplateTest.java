package io.kvcache.core.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.model.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChatTemplateTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * Every render of every reference JSON in reference/chat-templates: the template, the BOS/EOS
     * texts and BOS flag of the vocabulary llama.cpp's server used, a clock at the render date.
     */
    static Stream<Arguments> llamaCppRenders() throws IOException {
        Path dir = SharedData.require("reference/chat-templates");
        List<Arguments> renders = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                JsonNode reference = JSON.readTree(file);
                String templateFile = reference.get("template").asString();
                Clock renderDay = Clock.fixed(Instant.parse(reference.get("rendered_on_utc").asString() + "T12:00:00Z"),
                        ZoneOffset.UTC);
                ChatTemplate template = ChatTemplate.named(templateFile, Files.readString(dir.resolve(templateFile)),
                                reference.get("bos_token").asString(), reference.get("eos_token").asString())
                        .withClock(renderDay)
                        .forTokenizerAdding(reference.get("vocab_add_bos").asBoolean(), false);
                for (JsonNode render : reference.get("renders")) {
                    List<ChatMessage> messages = render.get("messages").values().stream()
                            .map(m -> new ChatMessage(m.get("role").asString(), m.get("content").asString()))
                            .toList();
                    renders.add(Arguments.of(templateFile, render.get("name").asString(), template, messages,
                            render.get("add_generation_prompt").asBoolean(), render.get("prompt").asString()));
                }
            }
        }
        return renders.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("llamaCppRenders")
    void rendersWhatLlamaCppRenders(String templateFile, String conversation, ChatTemplate template,
                                    List<ChatMessage> messages, boolean addGenerationPrompt, String prompt) {
        assertThat(template.render(messages, addGenerationPrompt)).isEqualTo(prompt);
    }
}
