package io.kvcache.spring.chat;

import io.kvcache.core.kv.KvFootprint;
import io.kvcache.spring.ByteSizes;

import java.util.OptionalLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code kvcache.memory.budget}: the bytes the KV caches of the conversations generating at once
 * may hold together, and the context it allows. The context is the longest conversation whose
 * cache fits the whole budget under the policy at every length on the way ({@link KvFootprint}),
 * never more than the configured or the model's context length; a policy whose cache stops
 * growing (a window) is then limited by those alone. Each turn reserves what its conversation will
 * hold at its longest (prompt plus max tokens) and waits while the running turns hold the rest.
 * Without a budget nothing is reserved and the context is the configured one.
 */
public final class MemoryBudget {
    static final String PROPERTY = "kvcache.memory.budget";
    /** A prompt token and a reply token: less is no conversation. */
    static final int MINIMAL_CONVERSATION = 2;

    private final OptionalLong budget;
    private final KvFootprint footprint;
    private final int contextLength;
    private final String contextLimit;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private long reserved;

    /**
     * @param budget        the budget in bytes, or empty for none
     * @param contextLength the context before the budget is applied
     * @param contextSource what set {@code contextLength} (a property, or the model), for messages
     * @throws IllegalArgumentException naming the property when the budget is not positive or holds
     *                                  no conversation of {@link #MINIMAL_CONVERSATION} tokens
     */
    MemoryBudget(OptionalLong budget, KvFootprint footprint, int contextLength, String contextSource, String policy) {
        this.budget = budget;
        this.footprint = footprint;
        if (budget.isEmpty()) {
            this.contextLength = contextLength;
            this.contextLimit = contextSource;
            return;
        }
        long bytes = requirePositive(budget.getAsLong());
        if (footprint.peakUpTo(contextLength) <= bytes) {
            this.contextLength = contextLength;
            this.contextLimit = contextSource;
            return;
        }
        long minimal = footprint.peakUpTo(Math.min(MINIMAL_CONVERSATION, contextLength));
        if (minimal > bytes) {
            throw new IllegalArgumentException(PROPERTY + "=" + ByteSizes.format(bytes) + " is too small for even a "
                    + "minimal conversation: under kvcache.policy=" + policy + " " + MINIMAL_CONVERSATION + " tokens hold "
                    + ByteSizes.format(minimal) + " of KV cache; raise the budget");
        }
        this.contextLength = longestFitting(bytes, contextLength);
        this.contextLimit = PROPERTY;
    }

    /** {@code bytes}, when a budget of that many bytes means anything; otherwise an error naming the property. */
    public static long requirePositive(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException(PROPERTY + "=" + bytes + " bytes: the budget must be positive, e.g. 256MB; "
                    + "leave it unset for no budget");
        }
        return bytes;
    }

    /**
     * The longest length up to {@code limit} whose cache fits {@code bytes}, by bisection between a
     * length that fits ({@link #MINIMAL_CONVERSATION}) and one that does not ({@code limit}).
     */
    private int longestFitting(long bytes, int limit) {
        int fits = MINIMAL_CONVERSATION;
        int tooLong = limit;
        while (tooLong - fits > 1) {
            int middle = (fits + tooLong) >>> 1;
            if (footprint.peakUpTo(middle) <= bytes) {
                fits = middle;
            } else {
                tooLong = middle;
            }
        }
        return fits;
    }

    /** Positions a conversation may reach. */
    int contextLength() {
        return contextLength;
    }

    /** What bounds {@link #contextLength()}: this budget, kvcache.model.context-length, or the model. */
    String contextLimit() {
        return contextLimit;
    }

    OptionalLong budget() {
        return budget;
    }

    /** Bytes the running turns have reserved. */
    long reserved() {
        lock.lock();
        try {
            return reserved;
        } finally {
            lock.unlock();
        }
    }

    /** What a conversation of {@code tokens} tokens holds, as reserved for it (0 without a budget). */
    long bytesFor(int tokens) {
        if (budget.isEmpty()) {
            return 0;
        }
        return footprint.peakUpTo(tokens);
    }

    /**
     * Reserves {@code bytes}, waiting until the running turns leave that much of the budget.
     *
     * @return false when they did not within {@code timeoutNanos}
     */
    boolean reserve(long bytes, long timeoutNanos) throws InterruptedException {
        if (budget.isEmpty()) {
            return true;
        }
        long left = timeoutNanos;
        lock.lockInterruptibly();
        try {
            while (reserved + bytes > budget.getAsLong()) {
                if (left <= 0) {
                    return false;
                }
                left = released.awaitNanos(left);
            }
            reserved += bytes;
            return true;
        } finally {
            lock.unlock();
        }
    }

    void release(long bytes) {
        if (budget.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            reserved -= bytes;
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
