package io.kvcache.core.grammar;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A grammar bound to a vocabulary: which tokens may follow each state of the grammar's automaton,
 * found by walking the vocabulary's trie and the automaton together (a shared prefix is read
 * once, a prefix the grammar refuses cuts off every token below it) and kept per state, so a
 * state seen again (inside a string, between the items of a list) costs nothing. The same walk
 * sorts the allowed tokens by the fewest bytes each leaves to finish the document, into at most
 * {@value #MAX_LEVELS} levels, so a token budget near the end of a generation also costs nothing.
 * Thread-safe: one per grammar and vocabulary can serve every generation; each generation follows
 * it with its own {@link TokenConstraint}. The masks kept are bounded by {@value #MAX_MASK_BYTES} bytes.
 */
public final class TokenGrammar {
    static final long MAX_MASK_BYTES = 64L << 20;
    /** Most budget levels kept per state: past them, tokens that leave more to finish are grouped with the last. */
    static final int MAX_LEVELS = 24;

    private final Grammar grammar;
    private final TokenTrie trie;
    private final GrammarAutomaton automaton;
    private final int words;
    /** Per token, the fewest bytes it leaves to finish (-1: not allowed); scratch of the walk. */
    private final int[] leaves;
    private final long[] none;
    private long maskBytes;
    private GrammarState[] masked = new GrammarState[64];
    private int maskedCount;

    public TokenGrammar(Grammar grammar, TokenTrie trie) {
        this.grammar = grammar;
        this.trie = trie;
        this.automaton = new GrammarAutomaton(grammar);
        this.words = (trie.vocabularySize() + 63) >>> 6;
        this.leaves = new int[trie.vocabularySize()];
        this.none = new long[words];
    }

    public Grammar grammar() {
        return grammar;
    }

    /** A constraint at the start of a document, for one generation. */
    public TokenConstraint start() {
        return new TokenConstraint(this, initial(), null, false);
    }

    /**
     * A lazy constraint, for one generation: free text until {@code trigger} appears, then the
     * grammar, whose documents begin with the trigger (as llama.cpp's lazy grammars for tool calls).
     */
    public TokenConstraint startAt(String trigger) {
        return new TokenConstraint(this, initial(), triggerBytes(trigger), false);
    }

    /**
     * A lazy constraint whose trigger counts only at the start of the generation (after blanks):
     * for calls written as bare JSON (Llama 3's {@code {"name": ...}}), where a brace later in
     * prose is not a call.
     */
    public TokenConstraint startAtBeginning(String trigger) {
        return new TokenConstraint(this, initial(), triggerBytes(trigger), true);
    }

    private static byte[] triggerBytes(String trigger) {
        if (trigger == null || trigger.isEmpty()) {
            throw new IllegalArgumentException("a lazy constraint needs a trigger");
        }
        return trigger.getBytes(StandardCharsets.UTF_8);
    }

    synchronized GrammarState initial() {
        return automaton.initial();
    }

    /** The state after {@code token}; {@link GrammarAutomaton#DEAD} when the grammar refuses it. */
    synchronized GrammarState after(GrammarState state, int token) {
        byte[] bytes = trie.bytes(token);
        return bytes == null ? GrammarAutomaton.DEAD : automaton.walk(state, bytes);
    }

    /** The state after {@code bytes}; {@link GrammarAutomaton#DEAD} when the grammar refuses them. */
    synchronized GrammarState walk(GrammarState state, byte[] bytes) {
        return automaton.walk(state, bytes);
    }

    /** The text a token spells, control tokens included (empty for none), for finding a trigger. */
    byte[] textBytes(int token) {
        return trie.textBytes(token);
    }

    boolean isEndOfGeneration(int token) {
        return trie.isEndOfGeneration(token);
    }

    int[] endOfGeneration() {
        return trie.endOfGeneration();
    }

    /**
     * The tokens allowed after {@code state} that leave at most {@code budget} bytes to finish the
     * document (the tokens left after this one, each spelling at least a byte). Where no token
     * leaves so little, none is allowed if the document is already whole (it ends there), and every
     * allowed token is otherwise (the budget cannot be kept).
     */
    synchronized long[] allowed(GrammarState state, int budget) {
        if (state.levels == null) {
            learn(state);
        }
        int level = Arrays.binarySearch(state.levels, budget);
        if (level < 0) {
            level = -level - 2;
        }
        if (level < 0) {
            return state.accepting ? none : state.masks[state.masks.length - 1];
        }
        return state.masks[level];
    }

    /** Walks the trie from {@code state} once and keeps its masks, one per budget level. */
    private void learn(GrammarState state) {
        Arrays.fill(leaves, -1);
        walk(state);
        int[] values = Arrays.stream(leaves).filter(v -> v >= 0).distinct().sorted().toArray();
        if (values.length == 0) {
            values = new int[] {0};
        }
        // The smallest values, and the largest as the last level (all allowed tokens): a budget between
        // levels gets the level below it, so fewer tokens than it would allow, never more.
        int[] levels = Arrays.copyOf(values, Math.min(values.length, MAX_LEVELS));
        levels[levels.length - 1] = values[values.length - 1];
        long[][] masks = new long[levels.length][words];
        for (int t = 0; t < leaves.length; t++) {
            int v = leaves[t];
            if (v < 0) {
                continue;
            }
            // A token belongs to every level at or above the bytes it leaves.
            int from = Arrays.binarySearch(levels, v);
            from = from >= 0 ? from : -from - 1;
            for (int l = from; l < levels.length; l++) {
                masks[l][t >>> 6] |= 1L << t;
            }
        }
        makeRoom((long) levels.length * words * Long.BYTES);
        masked[maskedCount++] = state;
        state.masks = masks;
        state.levels = levels;
    }

    /** Records, for each token allowed after {@code state}, the fewest bytes it leaves to finish. */
    private void walk(GrammarState state) {
        int[] nodes = new int[64];
        GrammarState[] states = new GrammarState[64];
        int top = 0;
        nodes[top] = 0;
        states[top++] = state;
        while (top > 0) {
            int node = nodes[--top];
            GrammarState here = states[top];
            for (int c = trie.firstChild[node]; c < trie.firstChild[node + 1]; c++) {
                GrammarState next = automaton.next(here, trie.childByte[c] & 0xFF);
                if (next == GrammarAutomaton.DEAD) {
                    continue;
                }
                int child = trie.childNode[c];
                for (int i = trie.firstToken[child]; i < trie.firstToken[child + 1]; i++) {
                    leaves[trie.tokens[i]] = next.fewestToEnd;
                }
                if (trie.firstChild[child] < trie.firstChild[child + 1]) {
                    if (top == nodes.length) {
                        nodes = Arrays.copyOf(nodes, top * 2);
                        states = Arrays.copyOf(states, top * 2);
                    }
                    nodes[top] = child;
                    states[top++] = next;
                }
            }
        }
    }

    /** Forgets every kept mask when {@code bytes} more would pass the memory bound. */
    private void makeRoom(long bytes) {
        if (maskBytes + bytes > MAX_MASK_BYTES) {
            for (int i = 0; i < maskedCount; i++) {
                masked[i].masks = null;
                masked[i].levels = null;
                masked[i] = null;
            }
            maskedCount = 0;
            maskBytes = 0;
        }
        if (maskedCount == masked.length) {
            masked = Arrays.copyOf(masked, maskedCount * 2);
        }
        maskBytes += bytes;
    }
}
