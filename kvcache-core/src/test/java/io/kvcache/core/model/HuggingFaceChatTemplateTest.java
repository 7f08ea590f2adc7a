package io.kvcache.core.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class HuggingFaceChatTemplateTest {
    @TempDir
    Path folder;

    @Test
    void readsTheStringInTokenizerConfig() throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ messages }}\"}");
        assertThat(HuggingFaceChatTemplate.read(folder)).isEqualTo("{{ messages }}");
    }

    @Test
    void picksTheDefaultOfNamedTemplates() throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "chat"}]}""");
        assertThat(HuggingFaceChatTemplate.read(folder)).isEqualTo("chat");
    }

    @Test
    void chatTemplateJinjaWinsOverTokenizerConfig() throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"chat_template\": \"old\"}");
        Files.writeString(folder.resolve("chat_template.jinja"), "new\n");
        assertThat(HuggingFaceChatTemplate.read(folder)).isEqualTo("new\n");
    }

    @Test
    void noTemplateIsNull() throws IOException {
        assertThat(HuggingFaceChatTemplate.read(folder)).isNull();
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");
        assertThat(HuggingFaceChatTemplate.read(folder)).isNull();
    }
}
