package io.kvcache.spring.chat;

import io.kvcache.spring.ByteSizes;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Lets turns generate: at most {@code kvcache.sessions.max-active} at once, and only while the KV
 * memory their conversations will hold fits {@code kvcache.memory.budget} beside the running ones.
 * A turn waits up to {@code kvcache.sessions.max-wait} for both (slots are handed out in arrival
 * order), then is refused with a {@link ConversationLimitException} that says which limit held it.
 */
final class Admission {
    private final Semaphore slots;
    private final int maxActive;
    private final Duration maxWait;
    private final MemoryBudget budget;

    Admission(int maxActive, Duration maxWait, MemoryBudget budget) {
        this.slots = new Semaphore(maxActive, true);
        this.maxActive = maxActive;
        this.maxWait = maxWait;
        this.budget = budget;
    }

    /** A turn let in; closing it gives back its slot and its memory. */
    final class Ticket implements AutoCloseable {
        private final long bytes;

        private Ticket(long bytes) {
            this.bytes = bytes;
        }

        @Override
        public void close() {
            budget.release(bytes);
            slots.release();
        }
    }

    /**
     * Waits for a slot and for the memory of a conversation of {@code tokens} tokens.
     *
     * @throws ConversationLimitException when either stayed taken for the whole of max-wait
     */
    Ticket admit(int tokens) {
        long bytes = budget.bytesFor(tokens);
        long deadline = System.nanoTime() + maxWait.toNanos();
        try {
            if (!slots.tryAcquire(maxWait.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new ConversationLimitException("all " + maxActive + " conversations that may generate at once "
                        + "(kvcache.sessions.max-active) stayed busy for kvcache.sessions.max-wait=" + format(maxWait)
                        + "; retry later, or raise those limits");
            }
            boolean reserved = false;
            try {
                reserved = budget.reserve(bytes, deadline - System.nanoTime());
            } finally {
                if (!reserved) {
                    slots.release();
                }
            }
            if (!reserved) {
                throw new ConversationLimitException("this conversation needs " + ByteSizes.format(bytes) + " of KV cache, "
                        + "and the running ones held " + ByteSizes.format(budget.reserved()) + " of "
                        + MemoryBudget.PROPERTY + "=" + ByteSizes.format(budget.budget().orElseThrow())
                        + " for kvcache.sessions.max-wait=" + format(maxWait)
                        + "; retry later, ask for fewer tokens, or raise the budget");
            }
            return new Ticket(bytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConversationLimitException("interrupted while waiting to generate");
        }
    }

    private static String format(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
