package io.kvcache.core.kv;

/**
 * SnapKV's score of one head's prompt entries: the attention they receive from the prompt's last
 * queries (the observation window, which sees what the end of the prompt, and so the question,
 * looks at), summed over those queries and the query heads reading the KV head, then max-pooled
 * over {@value #POOL} neighbours on either side so that an entry next to a strongly attended one
 * stays with it (SnapKV's pooling kernel of 5). Queries before the window do not count: H2O's
 * sum over every query favours the earliest tokens, which every later query has seen.
 */
final class ObservationWindow implements PromptAttention.AttentionRows {
    /** Neighbours on either side an entry's score reaches. */
    static final int POOL = 2;

    private final double[] received;
    private final int firstQuery;

    /**
     * @param entries    entries of the head, in attention order
     * @param firstQuery the position of the window's first query; earlier queries are ignored
     */
    ObservationWindow(int entries, int firstQuery) {
        this.received = new double[entries];
        this.firstQuery = firstQuery;
    }

    @Override
    public void add(float[] probabilities, int visible, int queryPosition) {
        if (queryPosition < firstQuery) {
            return;
        }
        synchronized (received) {
            for (int e = 0; e < Math.min(visible, received.length); e++) {
                received[e] += probabilities[e];
            }
        }
    }

    /** The pooled scores, one per entry: the most any entry within {@link #POOL} positions of it received. */
    float[] scores() {
        float[] pooled = new float[received.length];
        synchronized (received) {
            for (int e = 0; e < received.length; e++) {
                double most = 0;
                for (int n = Math.max(0, e - POOL); n <= Math.min(received.length - 1, e + POOL); n++) {
                    most = Math.max(most, received[n]);
                }
                pooled[e] = (float) most;
            }
        }
        return pooled;
    }
}
