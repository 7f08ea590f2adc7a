package io.kvcache.core.grammar;

import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.kvcache.core.SharedData;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.tokenizer.TokenType;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Token masks on a real byte-level vocabulary (Qwen2's, 151k tokens): each mask equals the one found
 * token by token from the grammar alone, and random generations under the mask always parse as
 * JSON and validate against their schema (checked by an independent JSON schema validator).
 */
class TokenConstraintTest {
    private static final String PERSON = """
            {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
             "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b\\"c"]}, "maxItems": 3},
             "score": {"type": "number"}, "ok": {"type": "boolean"}},
             "required": ["name", "age", "tags"], "additionalProperties": false}""";
    private static final String NESTED = """
            {"$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
               "required": ["x", "y"], "additionalProperties": false}},
             "type": "object", "properties": {"points": {"type": "array", "items": {"$ref": "#/$defs/Point"},
               "minItems": 1}, "label": {"type": ["string", "null"]}},
             "required": ["points", "label"], "additionalProperties": false}""";
    private static final String ANY = "{}";

    private static Tokenizer tokenizer;
    private static TokenTrie trie;
    private static RandomConstrainedText sampler;

    @BeforeAll
    static void load() {
        try (GgufFile file = GgufFile.open(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf"))) {
            tokenizer = Tokenizers.fromGguf(file.metadata());
        }
        trie = TokenTrie.of(tokenizer);
        sampler = new RandomConstrainedText(tokenizer);
    }

    @Test
    void masksEqualTheGrammarAppliedTokenByToken() {
        Grammar grammar = Grammar.fromJsonSchema(PERSON);
        TokenGrammar tokens = new TokenGrammar(grammar, trie);
        for (String prefix : List.of("", "{", "{\"name\": \"Al", "{\"name\":\"\\", "{\"name\":\"x\",\"age\":12",
                "{\"name\":\"x\",\"age\":1,\"tags\":[\"a\",", "{\"name\":\"x\",\"age\":1,\"tags\":[]}")) {
            TokenConstraint constraint = tokens.start();
            for (int t : tokenizer.encode(prefix, false, false)) {
                constraint.accept(t);
            }
            float[] logits = new float[tokenizer.vocabularySize()];
            constraint.mask(logits, 0, logits.length, 1000);
            GrammarAutomaton oracle = new GrammarAutomaton(grammar);
            byte[] before = prefix.getBytes(StandardCharsets.UTF_8);
            boolean whole = oracle.walk(oracle.initial(), before).accepting;
            int allowed = 0;
            for (int id = 0; id < logits.length; id++) {
                boolean expected;
                if (tokenizer.isEndOfGeneration(id)) {
                    expected = whole;
                } else if (tokenizer.tokenType(id) == TokenType.CONTROL || tokenizer.tokenBytes(id).length == 0) {
                    expected = false;
                } else {
                    byte[] piece = tokenizer.tokenBytes(id);
                    byte[] text = Arrays.copyOf(before, before.length + piece.length);
                    System.arraycopy(piece, 0, text, before.length, piece.length);
                    expected = oracle.walk(oracle.initial(), text) != GrammarAutomaton.DEAD;
                }
                assertThat(logits[id] == 0f).as("token %d %s after %s", id,
                        tokenizer.tokenText(id), prefix).isEqualTo(expected);
                allowed += expected ? 1 : 0;
            }
            assertThat(allowed).as("tokens allowed after " + prefix).isPositive();
        }
    }

    @Test
    void randomGenerationsAlwaysParseAndValidate() {
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
        JsonMapper json = JsonMapper.builder().build();
        SplittableRandom random = new SplittableRandom(42);
        for (String schemaText : List.of(PERSON, NESTED, ANY)) {
            TokenGrammar tokens = new TokenGrammar(Grammar.fromJsonSchema(schemaText), trie);
            Schema schema = registry.getSchema(schemaText);
            for (int run = 0; run < 20; run++) {
                int maxTokens = 48 + random.nextInt(40);
                String text = sampler.generate(tokens, random, maxTokens);
                JsonNode document = json.readTree(text);
                assertThat(schema.validate(document)).as("%s", text).isEmpty();
            }
        }
    }

    @Test
    void tokensOutsideTheMaskAreRefused() {
        TokenConstraint constraint = new TokenGrammar(Grammar.parse("root ::= \"{\" [0-9]* \"}\""), trie).start();
        int letter = tokenizer.encode("x", false, false)[0];
        assertThatThrownBy(() -> constraint.accept(letter)).isInstanceOf(GrammarException.class)
                .hasMessageContaining("cannot continue");
        int eos = tokenizer.eosId();
        assertThatThrownBy(() -> constraint.accept(eos)).isInstanceOf(GrammarException.class)
                .hasMessageContaining("before the document is whole");
        for (int t : tokenizer.encode("{12}", false, false)) {
            constraint.accept(t);
        }
        assertThat(constraint.isComplete()).isTrue();
    }

    @Test
    void aGrammarTheVocabularyCannotSpellIsReported() {
        // TinyStories' 2048 tokens have no byte fallback: nothing spells an emoji.
        Tokenizer small;
        try (GgufFile file = GgufFile.open(SharedData.require("models/tiny/tinystories-656k.gguf"))) {
            small = Tokenizers.fromGguf(file.metadata());
        }
        TokenConstraint constraint = new TokenGrammar(Grammar.parse("root ::= \"\\U0001F600\""), TokenTrie.of(small)).start();
        float[] logits = new float[small.vocabularySize()];
        assertThatThrownBy(() -> constraint.mask(logits, 0, logits.length, 10)).isInstanceOf(GrammarException.class)
                .hasMessageContaining("cannot spell");
    }
}
