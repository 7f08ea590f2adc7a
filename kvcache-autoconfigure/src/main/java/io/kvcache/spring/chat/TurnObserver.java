package io.kvcache.spring.chat;

import io.kvcache.core.generate.GenerationResult;

/** Hears of each finished turn of the chat model, e.g. to record meters. */
@FunctionalInterface
public interface TurnObserver {
    /** Hears nothing. */
    TurnObserver NONE = (firstTokenNanos, result, reusedTokens) -> {
    };

    /**
     * @param firstTokenNanos time from the start of the turn to its first generated token, 0 when none was
     * @param result          what was generated
     * @param reusedTokens    prompt tokens taken from a stored conversation instead of being evaluated
     */
    void turnCompleted(long firstTokenNanos, GenerationResult result, int reusedTokens);

    /** Hears that the quality guardrail moved {@code heads} heads of a conversation during a turn. */
    default void guardrailMoved(int heads) {
    }
}
