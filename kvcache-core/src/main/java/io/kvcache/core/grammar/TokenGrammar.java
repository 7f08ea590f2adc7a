package io.kvcache.core.grammar;

import java.util.Arrays;
import java.util.HashMap;

/**
 * A grammar bound to a vocabulary: which tokens may follow each state of the grammar's automaton,
 * found by walking the vocabulary's trie and the automaton together (a shared prefix is read
 * once, a prefix the grammar refuses cuts off every token below it) and kept per state, so a
 * state seen again (inside a string, between the items of a list) costs nothing. Thread-safe:
 * one per grammar and vocabulary can serve every generation; each generation follows it with its
 * own {@link TokenConstraint}. The masks kept are bounded by {@value #MAX_MASK_BYTES} bytes.
 */
public final class TokenGrammar {
    static final long MAX_MASK_BYTES = 64L << 20;

    private final Grammar grammar;
    private final TokenTrie trie;
    private final GrammarAutomaton automaton;
    private final int words;
    private long maskBytes;
    private GrammarState[] masked = new GrammarState[64];
    private int maskedCount;

    public TokenGrammar(Grammar grammar, TokenTrie trie) {
        this.grammar = grammar;
        this.trie = trie;
        this.automaton = new GrammarAutomaton(grammar);
        this.words = (trie.vocabularySize() + 63) >>> 6;
    }

    public Grammar grammar() {
        return grammar;
    }

    /** A constraint at the start of a document, for one generation. */
    public TokenConstraint start() {
        return new TokenConstraint(this, initial());
    }

    synchronized GrammarState initial() {
        return automaton.initial();
    }

    /** The state after {@code token}; {@link GrammarAutomaton#DEAD} when the grammar refuses it. */
    synchronized GrammarState after(GrammarState state, int token) {
        byte[] bytes = trie.bytes(token);
        return bytes == null ? GrammarAutomaton.DEAD : automaton.walk(state, bytes);
    }

    boolean isEndOfGeneration(int token) {
        return trie.isEndOfGeneration(token);
    }

    int[] endOfGeneration() {
        return trie.endOfGeneration();
    }

    /**
     * The tokens allowed after {@code state}, with at most {@code budget} bytes left to finish the
     * document after them (the tokens left after this one, each spelling at least a byte). The
     * mask without a budget is kept on the state; a budget that binds is walked afresh.
     */
    synchronized long[] allowed(GrammarState state, int budget) {
        if (state.mask == null) {
            long[] mask = new long[words];
            state.worstAfterToken = walk(state, mask, Integer.MAX_VALUE);
            keep(state, mask);
        }
        if (state.worstAfterToken <= budget) {
            return state.mask;
        }
        long[] narrowed = state.narrowed == null ? null : state.narrowed.get(budget);
        if (narrowed == null) {
            narrowed = new long[words];
            if (walk(state, narrowed, budget) < 0 && !state.accepting) {
                // No token leaves a document that fits: the budget cannot be kept, so it is not applied.
                narrowed = state.mask;
            }
            keepNarrowed(state, budget, narrowed);
        }
        return narrowed;
    }

    /**
     * Sets the bits of the tokens allowed after {@code state}; returns the most bytes one of them
     * leaves to finish (-1 when none is allowed).
     */
    private int walk(GrammarState state, long[] mask, int budget) {
        int worst = -1;
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
                int from = trie.firstToken[child];
                int to = trie.firstToken[child + 1];
                if (from < to && next.fewestToEnd <= budget) {
                    worst = Math.max(worst, next.fewestToEnd);
                    for (int i = from; i < to; i++) {
                        int t = trie.tokens[i];
                        mask[t >>> 6] |= 1L << t;
                    }
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
        return worst;
    }

    /** Keeps a state's mask, forgetting every kept mask first when they would pass the memory bound. */
    private void keep(GrammarState state, long[] mask) {
        makeRoom(state);
        state.mask = mask;
    }

    private void keepNarrowed(GrammarState state, int budget, long[] mask) {
        makeRoom(state);
        if (state.narrowed == null) {
            state.narrowed = new HashMap<>();
        }
        state.narrowed.put(budget, mask);
    }

    private void makeRoom(GrammarState state) {
        long bytes = (long) words * Long.BYTES;
        if (maskBytes + bytes > MAX_MASK_BYTES) {
            for (int i = 0; i < maskedCount; i++) {
                masked[i].mask = null;
                masked[i].narrowed = null;
                masked[i] = null;
            }
            maskedCount = 0;
            maskBytes = 0;
        }
        if (maskedCount == masked.length) {
            masked = Arrays.copyOf(masked, maskedCount * 2);
        }
        masked[maskedCount++] = state;
        maskBytes += bytes;
    }
}
