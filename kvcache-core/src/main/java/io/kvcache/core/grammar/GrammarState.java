package io.kvcache.core.grammar;

/**
 * Where the automaton is after some bytes: the parse stacks still alive (each top at the byte set
 * the next byte must match) and whether the bytes so far are a whole document. Interned by the
 * automaton, so equal states are one object and what is learnt about one (its transitions, its
 * token mask) is learnt once.
 */
final class GrammarState {
    /** A parse position and the positions to return to: the top's position is a byte set, the others where to resume. */
    static final class Frame {
        final int position;
        final Frame parent;
        final int id;
        /** Fewest bytes that finish this stack: its own alternative, then each one it returns to. */
        final int fewestToEnd;

        Frame(int position, Frame parent, int id, int restHere) {
            this.position = position;
            this.parent = parent;
            this.id = id;
            this.fewestToEnd = Math.min(Grammar.NEVER, restHere + (parent == null ? 0 : parent.fewestToEnd));
        }
    }

    final Frame[] stacks;
    final boolean accepting;
    /** Fewest bytes from here to a whole document (0 when it already is one). */
    final int fewestToEnd;
    /** Per byte, the state it leads to ({@link GrammarAutomaton#DEAD} when none), filled as bytes are tried. */
    GrammarState[] next;
    /**
     * Budget levels, ascending: the distinct numbers of bytes the allowed tokens leave to finish
     * (filled once by {@link TokenGrammar}; null until then or after the masks were forgotten).
     */
    int[] levels;
    /** Per level, the tokens that leave at most that many bytes; the last holds every allowed token. */
    long[][] masks;

    GrammarState(Frame[] stacks, boolean accepting) {
        this.stacks = stacks;
        this.accepting = accepting;
        int fewest = accepting ? 0 : Grammar.NEVER;
        for (Frame f : stacks) {
            fewest = Math.min(fewest, f.fewestToEnd);
        }
        this.fewestToEnd = fewest;
    }

    /** A whole document that nothing may extend. */
    boolean isComplete() {
        return accepting && stacks.length == 0;
    }
}
