package io.kvcache.core.grammar;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** JSON schemas compiled to grammars: hand-worked documents each schema accepts or refuses. */
class JsonSchemaGrammarTest {
    private static final String PERSON = """
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
             "properties": {"name": {"type": "string", "description": "full name"}, "age": {"type": "integer"}},
             "required": ["name", "age"], "additionalProperties": false}""";

    @Test
    void objectWithRequiredProperties() {
        Grammar g = Grammar.fromJsonSchema(PERSON);
        assertThat(g.matches("{\"name\":\"Al\",\"age\":42}")).isTrue();
        assertThat(g.matches("{ \"name\" : \"A\\\"l\" , \"age\" : -3 }")).isTrue();
        assertThat(g.matches("{\n  \"name\": \"Al\",\n  \"age\": 0\n}")).isTrue();
        assertThat(g.matches("{\"name\":\"Al\"}")).isFalse();
        assertThat(g.matches("{\"name\":\"Al\",\"age\":42,\"x\":1}")).isFalse();
        assertThat(g.matches("{\"name\":\"Al\",\"age\":1.5}")).isFalse();
        assertThat(g.matches("{\"name\":\"Al\",\"age\":012}")).isFalse();
        assertThat(g.matches("{\"name\":\"Al\",\"age\":1234567890}")).as("10 digits do not fit an int").isFalse();
        assertThat(g.matches("{\"name\":\"Al\",\"age\":42} ")).as("nothing after the document").isFalse();
        assertThat(g.isPrefix("{\"name\":\"A")).isTrue();
        assertThat(g.isPrefix("{\"age\"")).isFalse();
    }

    @Test
    void stringEscapes() {
        Grammar g = Grammar.fromJsonSchema("{\"type\": \"string\"}");
        assertThat(g.matches("\"\"")).isTrue();
        assertThat(g.matches("\"a\\n\\t\\\\\\/\\u00e9 é 😀\"")).isTrue();
        assertThat(g.matches("\"a\nb\"")).as("a raw newline").isFalse();
        assertThat(g.matches("\"\\x41\"")).isFalse();
        assertThat(g.matches("\"\\u00g9\"")).isFalse();
        assertThat(g.matches("\"abc")).isFalse();
        Grammar bounded = Grammar.fromJsonSchema("{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}");
        assertThat(bounded.matches("\"ab\"")).isTrue();
        assertThat(bounded.matches("\"a\\nb\"")).isTrue();
        assertThat(bounded.matches("\"a\"")).isFalse();
        assertThat(bounded.matches("\"abcd\"")).isFalse();
    }

    @Test
    void numbers() {
        Grammar g = Grammar.fromJsonSchema("{\"type\": \"number\"}");
        for (String ok : new String[] {"0", "-0.25", "1.5e10", "1E+05", "123456789012345", "3.141592653589793"}) {
            assertThat(g.matches(ok)).as(ok).isTrue();
        }
        for (String bad : new String[] {"1.", ".5", "01", "+1", "1e", "1e123", "--1", "NaN"}) {
            assertThat(g.matches(bad)).as(bad).isFalse();
        }
        Grammar longs = Grammar.fromJsonSchema("{\"type\": \"integer\", \"format\": \"int64\"}");
        assertThat(longs.matches("123456789012345678")).isTrue();
        assertThat(longs.matches("1.0")).isFalse();
    }

    @Test
    void optionalPropertiesKeepTheirOrder() {
        Grammar g = Grammar.fromJsonSchema("""
                {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"},
                 "c": {"type": "null"}}, "required": ["b"]}""");
        assertThat(g.matches("{\"b\":true}")).isTrue();
        assertThat(g.matches("{\"a\":1,\"b\":false}")).isTrue();
        assertThat(g.matches("{\"a\":1,\"b\":false,\"c\":null}")).isTrue();
        assertThat(g.matches("{\"b\":true,\"c\":null}")).isTrue();
        assertThat(g.matches("{}")).isFalse();
        assertThat(g.matches("{\"a\":1}")).isFalse();
        assertThat(g.matches("{\"a\":1,}")).isFalse();
        assertThat(g.matches("{,\"b\":true}")).isFalse();
        Grammar none = Grammar.fromJsonSchema("{\"properties\": {\"a\": {\"type\": \"integer\"}}}");
        assertThat(none.matches("{}")).isTrue();
        assertThat(none.matches("{\"a\":7}")).isTrue();
    }

    @Test
    void enumsConstsAndAnyOf() {
        Grammar colour = Grammar.fromJsonSchema("{\"type\": \"string\", \"enum\": [\"red\", \"gre\\\"en\", 3]}");
        assertThat(colour.matches("\"red\"")).isTrue();
        assertThat(colour.matches("\"gre\\\"en\"")).isTrue();
        assertThat(colour.matches("3")).isTrue();
        assertThat(colour.matches("\"blue\"")).isFalse();
        assertThat(Grammar.fromJsonSchema("{\"const\": {\"k\": [1, null]}}").matches("{\"k\":[1,null]}")).isTrue();
        Grammar nullable = Grammar.fromJsonSchema("{\"type\": [\"string\", \"null\"]}");
        assertThat(nullable.matches("null")).isTrue();
        assertThat(nullable.matches("\"x\"")).isTrue();
        assertThat(nullable.matches("1")).isFalse();
        Grammar either = Grammar.fromJsonSchema("{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": \"boolean\"}]}");
        assertThat(either.matches("12")).isTrue();
        assertThat(either.matches("false")).isTrue();
        assertThat(either.matches("\"12\"")).isFalse();
    }

    @Test
    void arraysCountTheirItems() {
        Grammar g = Grammar.fromJsonSchema("{\"type\": \"array\", \"items\": {\"type\": \"integer\"}, \"minItems\": 1, "
                + "\"maxItems\": 2}");
        assertThat(g.matches("[1]")).isTrue();
        assertThat(g.matches("[ 1 , 2 ]")).isTrue();
        assertThat(g.matches("[]")).isFalse();
        assertThat(g.matches("[1,2,3]")).isFalse();
        assertThat(g.matches("[1,]")).isFalse();
        Grammar any = Grammar.fromJsonSchema("{\"type\": \"array\"}");
        assertThat(any.matches("[]")).isTrue();
        assertThat(any.matches("[1, \"a\", {\"b\": [true, null]}, -2.5e3]")).isTrue();
        assertThat(any.matches("[1 2]")).isFalse();
    }

    @Test
    void referencesIntoDefsRecurse() {
        Grammar tree = Grammar.fromJsonSchema("""
                {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                   "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v", "kids"],
                   "additionalProperties": false}},
                 "$ref": "#/$defs/node"}""");
        assertThat(tree.matches("{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[]},{\"v\":3,\"kids\":[{\"v\":4,\"kids\":[]}]}]}"))
                .isTrue();
        assertThat(tree.matches("{\"v\":1,\"kids\":[{\"v\":2}]}")).isFalse();
    }

    @Test
    void unsupportedKeywordsAreNamed() {
        assertThatThrownBy(() -> Grammar.fromJsonSchema("{\"type\": \"string\", \"pattern\": \"^a\"}"))
                .isInstanceOf(GrammarException.class).hasMessageContaining("\"pattern\"").hasMessageContaining("#");
        assertThatThrownBy(() -> Grammar.fromJsonSchema("{\"type\": \"object\", \"properties\": {\"n\": "
                + "{\"type\": \"integer\", \"minimum\": 3}}}"))
                .isInstanceOf(GrammarException.class).hasMessageContaining("\"minimum\"")
                .hasMessageContaining("#/properties/n");
        assertThatThrownBy(() -> Grammar.fromJsonSchema("{\"type\": \"string\", \"format\": \"date-time\"}"))
                .isInstanceOf(GrammarException.class).hasMessageContaining("date-time");
        assertThatThrownBy(() -> Grammar.fromJsonSchema("{\"$ref\": \"https://example.com/s.json\"}"))
                .isInstanceOf(GrammarException.class).hasMessageContaining("only references inside the schema");
        assertThatThrownBy(() -> Grammar.fromJsonSchema("{\"type\": \"object\", \"properties\": {}, \"required\": [\"x\"]}"))
                .isInstanceOf(GrammarException.class).hasMessageContaining("required");
        assertThatThrownBy(() -> Grammar.fromJsonSchema("{\"type\": "))
                .isInstanceOf(GrammarException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> Grammar.fromJsonSchema("{\"type\": \"tuple\"}"))
                .isInstanceOf(GrammarException.class).hasMessageContaining("\"tuple\"");
    }
}
