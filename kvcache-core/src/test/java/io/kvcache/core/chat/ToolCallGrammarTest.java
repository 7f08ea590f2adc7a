package io.kvcache.core.chat;

import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.grammar.Grammar;
import io.kvcache.core.grammar.JsonSchemaGrammar;
import io.kvcache.core.grammar.RandomConstrainedText;
import io.kvcache.core.grammar.TokenGrammar;
import io.kvcache.core.grammar.TokenTrie;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The grammar of each family's tool calls: random replies under it always read back as calls of the
 * tools offered, with arguments their schema accepts, and a call spaced as the template's
 * {@code tojson} is matched while a call spaced otherwise is not.
 */
class ToolCallGrammarTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final List<ToolDefinition> TOOLS = List.of(
            new ToolDefinition("get_weather", "Weather in a city", """
                    {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                     "required": ["city", "unit"], "additionalProperties": false}"""),
            new ToolDefinition("add", "Adds two numbers", """
                    {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                     "required": ["a", "b"]}"""));

    @Test
    void hermesCallsAreSpacedAsTheTemplateWritesThem() {
        Grammar g = grammar(ToolCallFormat.HERMES);
        assertThat(g.matches("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": -2}}\n</tool_call>")).isTrue();
        assertThat(g.matches("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\":1,\"b\":2}}\n</tool_call>")).isFalse();
        assertThat(g.matches("<tool_call>\n{\"name\": \"sub\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>")).isFalse();
        assertThat(g.matches("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n"
                + "</tool_call>")).isTrue();
    }

    @Test
    void randomCallsInEveryFormatParseAsCallsOfTheOfferedTools() {
        Tokenizer tokenizer;
        try (GgufFile file = GgufFile.open(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"))) {
            tokenizer = Tokenizers.fromGguf(file.metadata());
        }
        TokenTrie trie = TokenTrie.of(tokenizer);
        RandomConstrainedText sampler = new RandomConstrainedText(tokenizer);
        SplittableRandom random = new SplittableRandom(5);
        for (ToolCallFormat format : ToolCallFormat.values()) {
            TokenGrammar tokens = new TokenGrammar(grammar(format), trie);
            for (int run = 0; run < 6; run++) {
                String reply = sampler.generate(tokens, random, 80);
                ToolCallFormat.Reply read = format.parse(reply, TOOLS);
                assertThat(read.calls()).as("%s: %s", format, reply).isNotEmpty();
                for (ToolCall call : read.calls()) {
                    JsonNode arguments = JSON.readTree(call.arguments());
                    if (call.name().equals("add")) {
                        assertThat(arguments.get("a").isIntegralNumber() && arguments.get("b").isIntegralNumber()).isTrue();
                    } else {
                        assertThat(arguments.get("unit").asString()).isIn("celsius", "fahrenheit");
                        String city = arguments.get("city").asString();
                        assertThat(city.codePointCount(0, city.length())).isLessThanOrEqualTo(12);
                    }
                }
            }
        }
    }

    /**
     * Random calls (random strings and numbers included) read back through the parser and the
     * Qwen 2.5 template (the conversation's next turn) as the very text generated, so a conversation
     * cache holding the generated tokens is continued by the next turn's prompt.
     */
    @Test
    void hermesCallsRenderAgainAsTheTextGenerated() throws java.io.IOException {
        java.nio.file.Path referenceFile = SharedData.require("reference/chat-templates-all/Qwen-Qwen2.5-7B-Instruct.json");
        JsonNode reference = JSON.readTree(referenceFile);
        ChatTemplate template = ChatTemplate.named("Qwen2.5", java.nio.file.Files.readString(referenceFile.resolveSibling(
                reference.get("template").asString())), reference.get("bos_token").asString(),
                reference.get("eos_token").asString());
        Tokenizer tokenizer;
        try (GgufFile file = GgufFile.open(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"))) {
            tokenizer = Tokenizers.fromGguf(file.metadata());
        }
        List<ToolDefinition> tools = List.of(new ToolDefinition("note", "Keeps a note", """
                {"type": "object", "properties": {"text": {"type": "string"}, "weight": {"type": "number"},
                 "count": {"type": "integer"}, "extra": {}}, "required": ["text", "weight", "count", "extra"]}"""));
        JsonSchemaGrammar rules = new JsonSchemaGrammar();
        rules.addRule("root", ToolCallFormat.HERMES.addCallRule(rules, tools));
        TokenGrammar tokens = new TokenGrammar(Grammar.parse(rules.gbnf()), TokenTrie.of(tokenizer));
        RandomConstrainedText sampler = new RandomConstrainedText(tokenizer);
        SplittableRandom random = new SplittableRandom(11);
        for (int run = 0; run < 12; run++) {
            String reply = sampler.generate(tokens, random, 120);
            List<ToolCall> calls = ToolCallFormat.HERMES.parse(reply, tools).calls();
            String rendered = template.render(List.of(ChatMessage.user("hi"), ChatMessage.assistant("", calls)), tools,
                    false);
            assertThat(rendered).contains("<|im_start|>assistant\n" + reply + "<|im_end|>");
        }
    }

    /** A lazy constraint lets prose through, then holds the call that the markup opens to the tools' schemas. */
    @Test
    void aLazyConstraintHoldsOnlyTheCallAfterItsMarkup() {
        Tokenizer tokenizer;
        try (GgufFile file = GgufFile.open(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"))) {
            tokenizer = Tokenizers.fromGguf(file.metadata());
        }
        TokenGrammar tokens = new TokenGrammar(grammar(ToolCallFormat.HERMES), TokenTrie.of(tokenizer));
        io.kvcache.core.grammar.TokenConstraint constraint = tokens.startAt("<tool_call>");
        float[] logits = new float[tokenizer.vocabularySize()];
        for (int t : tokenizer.encode("Let me look that up. <tool", false, true)) {
            constraint.mask(logits, 0, logits.length, 100);
            constraint.accept(t);
        }
        assertThat(logits).as("prose is free").containsOnly(0f);
        assertThat(constraint.isAccepting()).isTrue();
        for (int t : tokenizer.encode("_call>", false, true)) {
            constraint.accept(t);
        }
        constraint.mask(logits, 0, logits.length, 100);
        assertThat(logits[tokenizer.encode("\n", false, false)[0]]).as("the call goes on").isZero();
        assertThat(logits[tokenizer.encode("Sure", false, false)[0]]).as("prose inside the call is not allowed")
                .isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(constraint.isAccepting()).isFalse();
        for (int t : tokenizer.encode("\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>", false,
                true)) {
            constraint.accept(t);
        }
        assertThat(constraint.isAccepting()).isTrue();
    }

    private static Grammar grammar(ToolCallFormat format) {
        JsonSchemaGrammar rules = new JsonSchemaGrammar();
        rules.addRule("root", format.addCallRule(rules, TOOLS));
        return Grammar.parse(rules.gbnf());
    }
}
