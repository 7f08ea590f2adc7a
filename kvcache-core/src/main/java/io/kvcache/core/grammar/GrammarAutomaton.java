package io.kvcache.core.grammar;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pushdown automaton of a {@link Grammar} over bytes, built as it is walked: a state is the set
 * of parse stacks alive after the bytes read, and each transition, once computed, is kept on the
 * state. Stacks and states are interned (equal ones are one object), up to
 * {@value #MAX_STATES} states, past which the tables start afresh (states in use stay valid).
 * Not thread-safe: {@link TokenGrammar} serialises access.
 */
final class GrammarAutomaton {
    /** Most parse stacks one state may hold: a grammar more ambiguous than this is refused at the byte that reaches it. */
    static final int MAX_STACKS = 1024;
    static final int MAX_STATES = 10_000;
    static final GrammarState DEAD = new GrammarState(new GrammarState.Frame[0], false);

    private final Grammar grammar;
    private Map<Long, GrammarState.Frame> frames = new HashMap<>();
    private Map<StateKey, GrammarState> states = new HashMap<>();
    /** Frame ids are never reused, so frames from before a fresh start never pass for new ones. */
    private int nextFrameId;
    private final GrammarState initial;

    private record StateKey(int[] frames, boolean accepting) {
        @Override
        public boolean equals(Object o) {
            return o instanceof StateKey k && accepting == k.accepting && Arrays.equals(frames, k.frames);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(frames) * 2 + (accepting ? 1 : 0);
        }
    }

    GrammarAutomaton(Grammar grammar) {
        this.grammar = grammar;
        Expansion start = new Expansion();
        for (int alternative : grammar.alternatives[grammar.root]) {
            start.expand(alternative, null);
        }
        this.initial = start.state();
    }

    GrammarState initial() {
        return initial;
    }

    /** The state after byte {@code b} ({@link #DEAD} when no parse accepts it). */
    GrammarState next(GrammarState state, int b) {
        GrammarState[] table = state.next;
        if (table == null) {
            table = state.next = new GrammarState[256];
        }
        GrammarState n = table[b];
        if (n == null) {
            n = step(state, b);
            table[b] = n;
        }
        return n;
    }

    /** The state after {@code bytes}, or {@link #DEAD}. */
    GrammarState walk(GrammarState state, byte[] bytes) {
        for (int i = 0; i < bytes.length && state != DEAD; i++) {
            state = next(state, bytes[i] & 0xFF);
        }
        return state;
    }

    private GrammarState step(GrammarState state, int b) {
        if (states.size() > MAX_STATES) {
            frames = new HashMap<>();
            states = new HashMap<>();
        }
        Expansion after = new Expansion();
        for (GrammarState.Frame f : state.stacks) {
            if (grammar.sets[grammar.code[f.position]].contains(b)) {
                after.expand(f.position + 1, f.parent);
            }
        }
        return after.state();
    }

    private GrammarState.Frame frame(int position, GrammarState.Frame parent) {
        long key = (long) position << 32 | (parent == null ? 0xFFFFFFFFL : parent.id);
        GrammarState.Frame f = frames.get(key);
        if (f == null) {
            f = new GrammarState.Frame(position, parent, nextFrameId++, grammar.minRest[position]);
            frames.put(key, f);
        }
        return f;
    }

    /**
     * The stacks reached from some positions: rule references are entered (every alternative),
     * ends of alternatives return to the parent, until each stack's top is a byte set. A reference
     * that ends its alternative returns straight to the parent, so a repetition does not grow the
     * stack.
     */
    private final class Expansion {
        private final List<GrammarState.Frame> tops = new ArrayList<>();
        private final Set<Long> seen = new HashSet<>();
        private final ArrayDeque<Object[]> work = new ArrayDeque<>();
        private boolean accepting;

        void expand(int position, GrammarState.Frame parent) {
            work.push(new Object[] {position, parent});
            while (!work.isEmpty()) {
                Object[] item = work.pop();
                int pos = (Integer) item[0];
                GrammarState.Frame ret = (GrammarState.Frame) item[1];
                while (grammar.code[pos] == Grammar.END && ret != null) {
                    pos = ret.position;
                    ret = ret.parent;
                }
                int c = grammar.code[pos];
                if (c == Grammar.END) {
                    accepting = true;
                    continue;
                }
                long key = (long) pos << 32 | (ret == null ? 0xFFFFFFFFL : ret.id);
                if (!seen.add(key)) {
                    continue;
                }
                if (c >= 0) {
                    tops.add(frame(pos, ret));
                    if (tops.size() > MAX_STACKS) {
                        throw new GrammarException("the grammar is too ambiguous: more than " + MAX_STACKS
                                + " ways to read the text so far (rule " + grammar.names[ruleAt(pos)] + ")");
                    }
                    continue;
                }
                GrammarState.Frame back = grammar.code[pos + 1] == Grammar.END ? ret : frame(pos + 1, ret);
                for (int alternative : grammar.alternatives[-2 - c]) {
                    work.push(new Object[] {alternative, back});
                }
            }
        }

        GrammarState state() {
            if (tops.isEmpty() && !accepting) {
                return DEAD;
            }
            GrammarState.Frame[] sorted = tops.toArray(GrammarState.Frame[]::new);
            Arrays.sort(sorted, Comparator.comparingInt(f -> f.id));
            int[] ids = new int[sorted.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = sorted[i].id;
            }
            return states.computeIfAbsent(new StateKey(ids, accepting), k -> new GrammarState(sorted, accepting));
        }
    }

    /** The rule whose alternatives hold {@code position} (for messages). */
    private int ruleAt(int position) {
        int best = 0;
        int bestStart = -1;
        for (int r = 0; r < grammar.alternatives.length; r++) {
            for (int start : grammar.alternatives[r]) {
                if (start <= position && start > bestStart) {
                    best = r;
                    bestStart = start;
                }
            }
        }
        return best;
    }
}
