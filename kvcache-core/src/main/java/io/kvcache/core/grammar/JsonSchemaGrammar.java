package io.kvcache.core.grammar;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON schema as the GBNF grammar of the JSON documents it accepts, the way
 * {@code BeanOutputConverter} and tool parameter schemas are written:
 * <ul>
 *   <li>{@code type} (one or a list): object, array, string, integer, number, boolean, null;</li>
 *   <li>objects: {@code properties} in their order, {@code required} (the others may be left
 *       out), {@code additionalProperties} (no other property is ever generated, so true, false
 *       and a schema all hold); an object without properties is any JSON object;</li>
 *   <li>arrays: {@code items}, {@code minItems}, {@code maxItems};</li>
 *   <li>strings: any JSON string with its escapes, {@code minLength}, {@code maxLength};</li>
 *   <li>integers of at most 9 digits (they fit a Java {@code int}), 18 with {@code format: int64};
 *       numbers with at most 15 digits before the point, 15 after and an exponent of 2
 *       ({@code format} float or double);</li>
 *   <li>{@code enum}, {@code const}, {@code anyOf}, local {@code $ref} into {@code $defs} or
 *       {@code definitions} (recursion included), and the annotations {@code title},
 *       {@code description}, {@code default}, {@code examples}, {@code $schema}, {@code $id},
 *       {@code $comment}, {@code deprecated}, {@code readOnly}, {@code writeOnly}.</li>
 * </ul>
 * Any other keyword is refused by name rather than ignored, as a document generated without it
 * might not validate. With {@link Spacing#FREE}, between tokens the grammar allows a space, or a
 * newline and up to 20 spaces or tabs of indentation; with {@link Spacing#CANONICAL} the document
 * is spaced as Python's {@code json.dumps} (and the chat templates' {@code tojson}) writes it. Nothing
 * before or after the document.
 *
 * <p>One instance builds one grammar, which may hold several schemas and rules of its own (a tool
 * call's markup around its arguments' schema): {@link #addSchema}, {@link #addRule}, {@link #gbnf}.
 */
public final class JsonSchemaGrammar {
    /** How a document is spaced between its tokens. */
    public enum Spacing {
        /** Any of nothing, a space, or a newline and up to 20 spaces or tabs. */
        FREE,
        /**
         * As Python's {@code json.dumps} (ensure_ascii off) writes a document it has read: {@code ", "}
         * between members and items, {@code ": "} after keys, nothing else; short string escapes
         * where they exist; numbers without -0, trailing fraction zeros or exponents, with at most
         * 6 digits before the point and 4 after. A tool call written so reads back as the chat
         * template renders it again.
         */
        CANONICAL
    }

    /** Longest schema text accepted. */
    public static final int MAX_SCHEMA_CHARS = 1 << 20;

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly");
    private static final Set<String> UNDERSTOOD = Set.of("type", "properties", "required", "additionalProperties",
            "items", "minItems", "maxItems", "minLength", "maxLength", "format", "enum", "const", "anyOf", "$ref",
            "$defs", "definitions");

    private static final Map<String, String> PRIMITIVES = new LinkedHashMap<>();

    static {
        PRIMITIVES.put("ws", "( \" \" | \"\\n\" [ \\t]{0,20} )?");
        PRIMITIVES.put("json-char", "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4} )");
        PRIMITIVES.put("json-string", "\"\\\"\" json-char* \"\\\"\"");
        PRIMITIVES.put("json-integer", "\"-\"? ( \"0\" | [1-9] [0-9]{0,8} )");
        PRIMITIVES.put("json-long", "\"-\"? ( \"0\" | [1-9] [0-9]{0,17} )");
        PRIMITIVES.put("json-number", "\"-\"? ( \"0\" | [1-9] [0-9]{0,14} ) ( \".\" [0-9]{1,15} )? ( [eE] [-+]? [0-9]{1,2} )?");
        PRIMITIVES.put("json-boolean", "\"true\" | \"false\"");
        PRIMITIVES.put("json-null", "\"null\"");
        PRIMITIVES.put("json-value", "json-object | json-array | json-string | json-number | json-boolean | json-null");
        PRIMITIVES.put("json-object", "\"{\" ws ( json-string ws \":\" ws json-value ws ( \",\" ws json-string ws \":\" ws "
                + "json-value ws )* )? \"}\"");
        PRIMITIVES.put("json-array", "\"[\" ws ( json-value ws ( \",\" ws json-value ws )* )? \"]\"");
        // Canonical: what json.dumps (ensure_ascii off) writes again after reading, so a call's text survives the
        // round trip through its parsed arguments: short escapes where they exist, u00xx escapes for other controls,
        // no -0, no trailing zero in a fraction, no exponent, and few enough digits that a double keeps them.
        PRIMITIVES.put("json-char-c", "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ( [\"\\\\bfnrt] | \"u00\" ( \"0\" [0-7bef] | \"1\" [0-9a-f] ) )");
        PRIMITIVES.put("json-string-c", "\"\\\"\" json-char-c* \"\\\"\"");
        PRIMITIVES.put("json-integer-c", "\"0\" | \"-\"? [1-9] [0-9]{0,8}");
        PRIMITIVES.put("json-long-c", "\"0\" | \"-\"? [1-9] [0-9]{0,17}");
        PRIMITIVES.put("json-number-c", "\"0\" | \"-\"? [1-9] [0-9]{0,5} ( \".\" [0-9]{0,3} [1-9] )? | \"-\"? \"0.\" [0-9]{0,3} [1-9]");
        PRIMITIVES.put("json-value-c", "json-object-c | json-array-c | json-string-c | json-number-c | json-boolean | json-null");
        PRIMITIVES.put("json-object-c", "\"{\" ( json-string-c \": \" json-value-c ( \", \" json-string-c \": \" json-value-c )* )? "
                + "\"}\"");
        PRIMITIVES.put("json-array-c", "\"[\" ( json-value-c ( \", \" json-value-c )* )? \"]\"");
    }

    /** What each primitive rule refers to, so a rule used brings its dependencies along: read from its body. */
    private static final Map<String, List<String>> USES = new HashMap<>();

    static {
        // A body's rule names are the words left once its literals and character classes are taken out.
        Pattern literalsAndClasses = Pattern.compile("\"(\\\\.|[^\"\\\\])*\"|\\[(\\\\.|[^\\]\\\\])*\\]");
        Pattern word = Pattern.compile("[a-z][a-z0-9-]*");
        PRIMITIVES.forEach((name, body) -> {
            Matcher words = word.matcher(literalsAndClasses.matcher(body).replaceAll(" "));
            List<String> used = new ArrayList<>();
            while (words.find()) {
                if (PRIMITIVES.containsKey(words.group()) && !used.contains(words.group())) {
                    used.add(words.group());
                }
            }
            USES.put(name, used);
        });
    }

    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Set<String> primitivesUsed = new HashSet<>();

    /**
     * The GBNF grammar of the documents {@code schema} accepts, freely spaced.
     *
     * @throws GrammarException naming the keyword and where it is, for a keyword not supported or a malformed schema
     */
    public static String toGbnf(String schema) {
        JsonSchemaGrammar grammar = new JsonSchemaGrammar();
        grammar.addSchema("root", schema, Spacing.FREE);
        return grammar.gbnf();
    }

    /**
     * Adds the rules of the values {@code schema} accepts; the first is named {@code name} (or
     * {@code name} with a number, when taken), which is returned for other rules to refer to.
     *
     * @throws GrammarException naming the keyword and where it is, for a keyword not supported or a malformed schema
     */
    public String addSchema(String name, String schema, Spacing spacing) {
        if (schema == null || schema.isBlank()) {
            throw new GrammarException("the JSON schema is empty");
        }
        if (schema.length() > MAX_SCHEMA_CHARS) {
            throw new GrammarException("the JSON schema has " + schema.length() + " characters, more than the "
                    + MAX_SCHEMA_CHARS + " accepted");
        }
        JsonNode document;
        try {
            document = JSON.readTree(schema);
        } catch (JacksonException e) {
            throw new GrammarException("the JSON schema is not valid JSON: " + e.getOriginalMessage());
        }
        String top = unique(name);
        Schema compiler = new Schema(document, spacing);
        compiler.references.put("#", top);
        rules.put(top, compiler.value(document, "#", top));
        return top;
    }

    /** Adds a rule written in GBNF (it may refer to the rules {@link #addSchema} returned). */
    public void addRule(String name, String body) {
        if (rules.containsKey(name) || PRIMITIVES.containsKey(name)) {
            throw new GrammarException("rule " + GrammarException.quoted(name) + " is defined twice");
        }
        rules.put(name, body);
    }

    /** The grammar built so far, with the JSON rules its schemas use; its documents are those of rule root. */
    public String gbnf() {
        StringBuilder gbnf = new StringBuilder();
        rules.forEach((name, body) -> gbnf.append(name).append(" ::= ").append(body).append('\n'));
        Set<String> added = new HashSet<>();
        List<String> pending = new ArrayList<>(primitivesUsed);
        while (!pending.isEmpty()) {
            String name = pending.removeLast();
            if (added.add(name)) {
                pending.addAll(USES.getOrDefault(name, List.of()));
            }
        }
        PRIMITIVES.forEach((name, body) -> {
            if (added.contains(name)) {
                gbnf.append(name).append(" ::= ").append(body).append('\n');
            }
        });
        return gbnf.toString();
    }

    /** One schema being compiled: its document (what its references point into) and its spacing. */
    private final class Schema {
        private final JsonNode document;
        private final boolean free;
        private final Map<String, String> references = new HashMap<>();

        Schema(JsonNode document, Spacing spacing) {
            this.document = document;
            this.free = spacing == Spacing.FREE;
        }

        /** The GBNF expression of the values {@code schema} accepts; {@code path} locates it in messages. */
        private String value(JsonNode schema, String path, String hint) {
            if (schema.isBoolean()) {
                if (!schema.booleanValue()) {
                    throw new GrammarException("the schema at " + path + " is false: no value is accepted there");
                }
                return anyValue();
            }
            if (!schema.isObject()) {
                throw new GrammarException("the schema at " + path + " is neither an object nor a boolean");
            }
            for (String keyword : schema.propertyNames()) {
                if (!UNDERSTOOD.contains(keyword) && !ANNOTATIONS.contains(keyword)) {
                    throw new GrammarException("JSON schema keyword " + GrammarException.quoted(keyword) + " at " + path
                            + " is not supported by constrained decoding");
                }
            }
            if (schema.has("$ref")) {
                return reference(schema.get("$ref"), path);
            }
            if (schema.has("const")) {
                return literal(compact(schema.get("const")));
            }
            if (schema.has("enum")) {
                JsonNode values = schema.get("enum");
                if (!values.isArray() || values.isEmpty()) {
                    throw new GrammarException("enum at " + path + " must be a non-empty list");
                }
                List<String> literals = new ArrayList<>();
                for (JsonNode v : values) {
                    literals.add(literal(compact(v)));
                }
                return define(hint, String.join(" | ", literals));
            }
            if (schema.has("anyOf")) {
                JsonNode options = schema.get("anyOf");
                if (!options.isArray() || options.isEmpty()) {
                    throw new GrammarException("anyOf at " + path + " must be a non-empty list");
                }
                List<String> alternatives = new ArrayList<>();
                for (int i = 0; i < options.size(); i++) {
                    alternatives.add(value(options.get(i), path + "/anyOf/" + i, hint + "-" + i));
                }
                return define(hint, String.join(" | ", alternatives));
            }
            JsonNode type = schema.get("type");
            if (type == null) {
                if (schema.has("properties")) {
                    return typed("object", schema, path, hint);
                }
                if (schema.has("items")) {
                    return typed("array", schema, path, hint);
                }
                return anyValue();
            }
            if (type.isArray()) {
                List<String> alternatives = new ArrayList<>();
                for (JsonNode t : type) {
                    alternatives.add(typed(typeName(t, path), schema, path, hint + "-" + t.asString()));
                }
                if (alternatives.isEmpty()) {
                    throw new GrammarException("type at " + path + " is an empty list");
                }
                return define(hint, String.join(" | ", alternatives));
            }
            return typed(typeName(type, path), schema, path, hint);
        }

        private static String typeName(JsonNode type, String path) {
            if (!type.isString()) {
                throw new GrammarException("type at " + path + " must be a string or a list of strings");
            }
            return type.asString();
        }

        private String typed(String type, JsonNode schema, String path, String hint) {
            return switch (type) {
                case "object" -> object(schema, path, hint);
                case "array" -> array(schema, path, hint);
                case "string" -> string(schema, path, hint);
                case "integer" -> integer(schema, path);
                case "number" -> {
                    // float and double (as BeanOutputConverter writes them) hold any number the grammar writes.
                    JsonNode format = schema.get("format");
                    if (format != null && !format.asString().equals("float") && !format.asString().equals("double")) {
                        throw new GrammarException("format " + GrammarException.quoted(format.asString()) + " at " + path
                                + " is not supported for numbers (float and double are)");
                    }
                    yield spaced("json-number");
                }
                case "boolean" -> primitive("json-boolean");
                case "null" -> primitive("json-null");
                default -> throw new GrammarException("type " + GrammarException.quoted(type) + " at " + path + " is not a JSON "
                        + "schema type");
            };
        }

        private String object(JsonNode schema, String path, String hint) {
            JsonNode properties = schema.path("properties");
            boolean closed = schema.path("additionalProperties").isBoolean() && !schema.get("additionalProperties").booleanValue();
            if (!properties.isObject() || properties.isEmpty()) {
                if (schema.has("required") && !schema.get("required").isEmpty()) {
                    throw new GrammarException("required at " + path + " names properties the schema does not define");
                }
                return closed ? literal("{") + space() + " " + literal("}") : spaced("json-object");
            }
            Set<String> required = new HashSet<>();
            for (JsonNode r : schema.path("required")) {
                if (!r.isString() || !properties.has(r.asString())) {
                    throw new GrammarException("required at " + path + " names " + GrammarException.quoted(r.asString())
                            + ", which is not among its properties");
                }
                required.add(r.asString());
            }
            List<String> names = new ArrayList<>(properties.propertyNames());
            List<String> members = new ArrayList<>();
            for (String name : names) {
                String v = value(properties.get(name), path + "/properties/" + name, hint + "-" + name);
                members.add(literal(JSON.writeValueAsString(name)) + colon() + " " + v + space());
            }
            if (required.size() == names.size()) {
                return define(hint, literal("{") + space() + " " + String.join(comma() + " ", members) + " "
                        + literal("}"));
            }
            // Members in order, each optional one free to be left out: "first" (nothing written yet)
            // and "then" (a comma before it) chains, built from the last member back.
            String first = "\"\"";
            String then = "\"\"";
            for (int i = names.size() - 1; i >= 0; i--) {
                String member = members.get(i);
                boolean must = required.contains(names.get(i));
                String firstHere = member + " " + then + (must ? "" : " | " + first);
                String thenHere = comma() + " " + member + " " + then + (must ? "" : " | " + then);
                first = define(hint + "-first" + i, firstHere);
                then = define(hint + "-then" + i, thenHere);
            }
            return define(hint, literal("{") + space() + " " + first + " " + literal("}"));
        }

        private String array(JsonNode schema, String path, String hint) {
            if (schema.has("items") && schema.get("items").isArray()) {
                throw new GrammarException("items at " + path + " is a list (tuple validation), which is not supported");
            }
            String item = schema.has("items") ? value(schema.get("items"), path + "/items", hint + "-item") : anyValue();
            int min = count(schema, "minItems", path, 0);
            int max = count(schema, "maxItems", path, -1);
            if (max >= 0 && max < min) {
                throw new GrammarException("maxItems at " + path + " is below minItems");
            }
            if (max == 0) {
                return define(hint, literal("[") + space() + " " + literal("]"));
            }
            String more = "( " + comma() + " " + item + space() + " )"
                    + repetition(Math.max(0, min - 1), max < 0 ? -1 : max - 1);
            String items = item + space() + " " + more;
            return define(hint, literal("[") + space() + " " + (min == 0 ? "( " + items + " )?" : items) + " "
                    + literal("]"));
        }

        /** Any JSON value, spaced as this schema is. */
        private String anyValue() {
            return spaced("json-value");
        }

        /** The primitive {@code name}, or its canonical form (named with "-c") when this schema is canonical. */
        private String spaced(String name) {
            return primitive(free ? name : name + "-c");
        }

        /** Where a document may be spaced: " ws" when free, nothing when canonical. */
        private String space() {
            return free ? " " + primitive("ws") : "";
        }

        /** Between a key and its value. */
        private String colon() {
            return free ? " " + primitive("ws") + " " + literal(":") + " " + primitive("ws") : " " + literal(": ");
        }

        /** Between members or items. */
        private String comma() {
            return free ? " " + literal(",") + " " + primitive("ws") : " " + literal(", ");
        }

        private String string(JsonNode schema, String path, String hint) {
            rejectFormat(schema, path, "string");
            int min = count(schema, "minLength", path, 0);
            int max = count(schema, "maxLength", path, -1);
            if (max >= 0 && max < min) {
                throw new GrammarException("maxLength at " + path + " is below minLength");
            }
            if (min == 0 && max < 0) {
                return spaced("json-string");
            }
            return define(hint, literal("\"") + " " + spaced("json-char") + repetition(min, max) + " " + literal("\""));
        }

        private String integer(JsonNode schema, String path) {
            JsonNode format = schema.get("format");
            if (format == null || format.asString().equals("int32")) {
                return spaced("json-integer");
            }
            if (format.asString().equals("int64")) {
                return spaced("json-long");
            }
            throw new GrammarException("format " + GrammarException.quoted(format.asString()) + " at " + path
                    + " is not supported for integers (int32 and int64 are)");
        }

        private static void rejectFormat(JsonNode schema, String path, String type) {
            if (schema.has("format")) {
                throw new GrammarException("format " + GrammarException.quoted(schema.get("format").asString()) + " at " + path
                        + " is not supported for " + type + "s by constrained decoding");
            }
        }

        private String reference(JsonNode ref, String path) {
            if (!ref.isString()) {
                throw new GrammarException("$ref at " + path + " must be a string");
            }
            String target = ref.asString();
            String known = references.get(target);
            if (known != null) {
                return known;
            }
            if (!target.startsWith("#/")) {
                throw new GrammarException("$ref " + GrammarException.quoted(target) + " at " + path + " is not supported: only "
                        + "references inside the schema (#/$defs/...) are");
            }
            JsonNode node = document;
            for (String segment : target.substring(2).split("/", -1)) {
                node = node.path(segment.replace("~1", "/").replace("~0", "~"));
            }
            if (node.isMissingNode()) {
                throw new GrammarException("$ref " + GrammarException.quoted(target) + " at " + path + " points at nothing");
            }
            String name = unique("ref-" + target.substring(target.lastIndexOf('/') + 1));
            references.put(target, name);
            // Named before its body is compiled, so a schema that refers to itself becomes a recursive rule.
            rules.put(name, null);
            rules.put(name, value(node, target, name));
            return name;
        }
    }

    private static int count(JsonNode schema, String keyword, String path, int absent) {
        JsonNode n = schema.get(keyword);
        if (n == null) {
            return absent;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 0 || n.intValue() > 100_000) {
            throw new GrammarException(keyword + " at " + path + " must be a whole number from 0 to 100000");
        }
        return n.intValue();
    }

    private static String repetition(int min, int max) {
        if (max < 0) {
            return min == 0 ? "*" : min == 1 ? "+" : "{" + min + ",}";
        }
        return "{" + min + "," + max + "}";
    }

    private String primitive(String name) {
        primitivesUsed.add(name);
        return name;
    }

    private String define(String hint, String body) {
        String name = unique(hint);
        rules.put(name, body);
        return name;
    }

    /** A rule name from {@code hint} (letters, digits and dashes) not used yet. */
    private String unique(String hint) {
        String base = hint.replaceAll("[^a-zA-Z0-9-]", "-");
        if (base.length() > 60) {
            base = base.substring(0, 60);
        }
        String name = base;
        for (int i = 2; rules.containsKey(name) || PRIMITIVES.containsKey(name); i++) {
            name = base + "-" + i;
        }
        rules.put(name, "");
        return name;
    }

    private static String compact(JsonNode value) {
        return JSON.writeValueAsString(value);
    }

    /** {@code text} as a GBNF string literal. */
    public static String literal(String text) {
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        out.append(String.format("\\x%02X", c));
                    } else {
                        out.appendCodePoint(c);
                    }
                }
            }
        });
        return out.append('"').toString();
    }
}
