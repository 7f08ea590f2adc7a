package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.tree.Node;

import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * Ends a render that runs past its {@link TemplateLimits#timeout()}: Jinjava calls
 * {@link #accept} before it renders each node, and between two nodes a template can only loop over
 * one bounded {@code range()} or list, so the check comes often enough. The deadline is per thread
 * because Jinjava renders on the caller's thread and one engine serves many threads.
 */
final class TemplateDeadline implements BiConsumer<Node, JinjavaInterpreter> {
    private final ThreadLocal<long[]> deadline = new ThreadLocal<>();
    private final Duration timeout;

    TemplateDeadline(Duration timeout) {
        this.timeout = timeout;
    }

    /** Runs {@code render} with the clock started; the deadline ends with it. */
    <T> T during(java.util.function.Supplier<T> render) {
        long[] previous = deadline.get();
        deadline.set(new long[] {System.nanoTime() + timeout.toNanos()});
        try {
            return render.get();
        } finally {
            deadline.set(previous);
        }
    }

    @Override
    public void accept(Node node, JinjavaInterpreter interpreter) {
        long[] end = deadline.get();
        if (end != null && System.nanoTime() - end[0] > 0) {
            throw new TemplateLimitException("rendering took longer than " + timeout.toMillis()
                    + " ms (TemplateLimits.timeout), at line " + node.getLineNumber());
        }
    }
}
