package io.kvcache.core.grammar;

import java.nio.charset.StandardCharsets;

/**
 * A grammar compiled to bytes: each rule is a list of alternatives, each alternative a sequence of
 * elements, each element a set of bytes or a reference to a rule. Characters and character
 * classes are spelled out as their UTF-8 bytes, so the automaton built on it reads the bytes of
 * tokens directly, and repetitions are rules of their own. Immutable and safe to share.
 *
 * <p>Compiling is bounded: at most {@value #MAX_SOURCE_CHARS} characters of source and
 * {@value #MAX_ELEMENTS} elements once repetitions are expanded; rules that refer to themselves
 * before reading a byte (left recursion) and rules that can never end are refused by name.
 */
public final class Grammar {
    /** Longest grammar source accepted. */
    public static final int MAX_SOURCE_CHARS = 1 << 20;
    /** Most elements (bytes sets and rule references, after repetitions are expanded) a grammar may hold. */
    public static final int MAX_ELEMENTS = 200_000;

    /** {@link #code} value that ends an alternative. */
    static final int END = -1;
    /** Stands for "never": a rule that cannot end has no fewest bytes. */
    static final int NEVER = Integer.MAX_VALUE / 4;

    /** Per position: a byte-set index (>= 0), {@link #END}, or a reference to rule r as {@code -2 - r}. */
    final int[] code;
    final ByteSet[] sets;
    /** Per rule: the positions its alternatives start at. */
    final int[][] alternatives;
    final String[] names;
    final int root;
    /** Per position: the fewest bytes that complete its alternative from there. */
    final int[] minRest;
    private final String source;

    Grammar(int[] code, ByteSet[] sets, int[][] alternatives, String[] names, int root, int[] minRest, String source) {
        this.code = code;
        this.sets = sets;
        this.alternatives = alternatives;
        this.names = names;
        this.root = root;
        this.minRest = minRest;
        this.source = source;
    }

    /**
     * Compiles a grammar in GBNF, the notation of llama.cpp: rules {@code name ::= expression},
     * string literals in double quotes, character classes in brackets (with ranges and {@code ^}),
     * {@code .} for any character, groups, alternatives with {@code |}, repetition with {@code *},
     * {@code +}, {@code ?} and {@code {m}}, {@code {m,}}, {@code {m,n}}, comments from {@code #};
     * the document is the rule named {@code root}.
     *
     * @throws GrammarException naming the line and column of a syntax error, an undefined rule,
     *                          a left-recursive rule, or a grammar past the size limits
     */
    public static Grammar parse(String gbnf) {
        return new GbnfParser(gbnf).parse();
    }

    /**
     * Compiles a JSON schema (as text) to the grammar of the JSON documents it accepts; see
     * {@link JsonSchemaGrammar} for the keywords understood.
     *
     * @throws GrammarException naming an unsupported keyword or a malformed schema
     */
    public static Grammar fromJsonSchema(String schema) {
        return parse(JsonSchemaGrammar.toGbnf(schema));
    }

    /** Whether {@code text} is a whole document of this grammar. */
    public boolean matches(String text) {
        GrammarAutomaton automaton = new GrammarAutomaton(this);
        return automaton.walk(automaton.initial(), text.getBytes(StandardCharsets.UTF_8)).accepting;
    }

    /** Whether {@code text} is the start of a document of this grammar (a whole document included). */
    public boolean isPrefix(String text) {
        GrammarAutomaton automaton = new GrammarAutomaton(this);
        return automaton.walk(automaton.initial(), text.getBytes(StandardCharsets.UTF_8)) != GrammarAutomaton.DEAD;
    }

    /** The GBNF text this grammar was compiled from. */
    public String source() {
        return source;
    }

    /** The fewest bytes of any document: at least this many tokens must be left to finish one. */
    public int shortestDocument() {
        int best = NEVER;
        for (int start : alternatives[root]) {
            best = Math.min(best, minRest[start]);
        }
        return best;
    }
}
