package io.kvcache.core.grammar;

import java.util.Arrays;

/**
 * One generation held to a grammar: before each token is sampled, {@link #mask} sets the logits of
 * the tokens that cannot continue the document to minus infinity (end-of-generation tokens stay
 * only where the document is whole), and {@link #accept} follows the token sampled. Given the
 * tokens left, it also keeps room to finish: near the limit only tokens that leave a document
 * finishable in the tokens remaining are allowed, so a generation that stops at its limit still
 * ends with a whole document (assuming the vocabulary spells every byte with a token of its own,
 * as byte-level and byte-fallback vocabularies do).
 *
 * <p>A lazy constraint ({@link TokenGrammar#startAt}) lets text through freely until its trigger
 * appears, then holds what follows, the trigger included, to the grammar: a model may answer in
 * prose or open a tool call, and once it opens one, the call is held to the tools' schemas. If the
 * token that completes the trigger carries bytes the grammar refuses, the constraint stands aside
 * and the text is judged as written. An anchored one ({@link TokenGrammar#startAtBeginning}) only
 * looks for its trigger at the start of the text. Not thread-safe: one per generation.
 */
public final class TokenConstraint {
    private final TokenGrammar grammar;
    private final GrammarState initial;
    private final byte[] trigger;
    /** Whether the trigger counts only at the start of the text (after blanks). */
    private final boolean anchored;
    /** The last bytes of free text, where a trigger may be arriving across tokens. */
    private byte[] tail = new byte[0];
    /** Whether free text may still turn out to hold the trigger (an anchored one stops being watched). */
    private boolean watching = true;
    private boolean active;
    private GrammarState state;
    private boolean ended;

    TokenConstraint(TokenGrammar grammar, GrammarState initial, byte[] trigger, boolean anchored) {
        this.grammar = grammar;
        this.initial = initial;
        this.state = initial;
        this.trigger = trigger;
        this.anchored = anchored;
        this.active = trigger == null;
    }

    /**
     * Masks the logits of tokens that may not come next ({@code logits[offset .. offset + vocabulary)}).
     *
     * @param tokensLeft the tokens that may still be generated, this one included
     * @throws GrammarException when no token of the vocabulary can continue the document
     */
    public void mask(float[] logits, int offset, int vocabulary, int tokensLeft) {
        if (!active) {
            return;
        }
        long[] allowed = grammar.allowed(state, Math.max(0, tokensLeft - 1));
        // End-of-generation tokens are outside the trie: masked with the rest, allowed again where the document is whole.
        int[] ends = grammar.endOfGeneration();
        float[] endLogits = new float[ends.length];
        for (int i = 0; i < ends.length; i++) {
            endLogits[i] = ends[i] < vocabulary ? logits[offset + ends[i]] : Float.NEGATIVE_INFINITY;
        }
        boolean any = state.accepting;
        int words = Math.min(allowed.length, (vocabulary + 63) >>> 6);
        for (int w = 0; w < words; w++) {
            long bits = allowed[w];
            any |= bits != 0;
            if (bits == -1L) {
                continue;
            }
            int base = w << 6;
            int end = Math.min(64, vocabulary - base);
            for (int i = 0; i < end; i++) {
                if ((bits & 1L << i) == 0) {
                    logits[offset + base + i] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        for (int i = words << 6; i < vocabulary; i++) {
            logits[offset + i] = Float.NEGATIVE_INFINITY;
        }
        if (!any) {
            throw new GrammarException("no token of the vocabulary continues the document here: the grammar asks "
                    + "for text the vocabulary cannot spell");
        }
        if (state.accepting) {
            for (int i = 0; i < ends.length; i++) {
                if (ends[i] < vocabulary) {
                    logits[offset + ends[i]] = endLogits[i];
                }
            }
        }
    }

    /**
     * Follows the token generated.
     *
     * @throws GrammarException when the grammar does not allow it here (it was not sampled from masked logits)
     */
    public void accept(int token) {
        if (ended) {
            throw new GrammarException("the document has ended; no token may follow");
        }
        if (!active) {
            if (trigger != null && watching && !grammar.isEndOfGeneration(token)) {
                if (anchored) {
                    watchBeginning(grammar.textBytes(token));
                } else {
                    watch(grammar.textBytes(token));
                }
            }
            return;
        }
        if (grammar.isEndOfGeneration(token)) {
            if (!state.accepting) {
                throw new GrammarException("token " + token + " ends the generation before the document is whole");
            }
            ended = true;
            return;
        }
        GrammarState next = grammar.after(state, token);
        if (next == GrammarAutomaton.DEAD) {
            throw new GrammarException("token " + token + " cannot continue the document here");
        }
        state = next;
    }

    /** Free text of a lazy constraint: looks for the trigger in what it adds, and starts the grammar there. */
    private void watch(byte[] bytes) {
        byte[] window = new byte[tail.length + bytes.length];
        System.arraycopy(tail, 0, window, 0, tail.length);
        System.arraycopy(bytes, 0, window, tail.length, bytes.length);
        int at = indexOf(window, trigger);
        if (at >= 0) {
            GrammarState after = grammar.walk(initial, Arrays.copyOfRange(window, at, window.length));
            if (after != GrammarAutomaton.DEAD) {
                active = true;
                state = after;
            }
            tail = new byte[0];
            return;
        }
        tail = Arrays.copyOfRange(window, Math.max(0, window.length - trigger.length + 1), window.length);
    }

    /**
     * Free text of an anchored constraint: blanks first, then either the trigger (the grammar
     * starts there) or anything else (the text stays free to its end).
     */
    private void watchBeginning(byte[] bytes) {
        byte[] window = new byte[tail.length + bytes.length];
        System.arraycopy(tail, 0, window, 0, tail.length);
        System.arraycopy(bytes, 0, window, tail.length, bytes.length);
        int start = 0;
        while (start < window.length && (window[start] == ' ' || window[start] == '\n' || window[start] == '\r'
                || window[start] == '\t')) {
            start++;
        }
        byte[] text = Arrays.copyOfRange(window, start, window.length);
        int common = Math.min(text.length, trigger.length);
        if (!Arrays.equals(text, 0, common, trigger, 0, common)) {
            watching = false;
        } else if (text.length >= trigger.length) {
            GrammarState after = grammar.walk(initial, text);
            active = after != GrammarAutomaton.DEAD;
            state = active ? after : state;
            watching = false;
        } else {
            tail = text;
        }
    }

    private static int indexOf(byte[] text, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= text.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (text[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Whether the text so far is a whole document (free text before a lazy constraint's trigger is). */
    public boolean isAccepting() {
        return !active || state.accepting;
    }

    /** Whether the document is whole and nothing may extend it (generation can stop). */
    public boolean isComplete() {
        return ended || active && state.isComplete();
    }
}
