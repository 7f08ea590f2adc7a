package io.kvcache.core.kv;

/**
 * FastGen's prompt profiling for one KV head: how much of the head's attention each candidate
 * policy would have kept. Recovery of a candidate = the mean, over every prompt query of every
 * query head in the KV head's group, of the attention probability mass that falls on the entries
 * the candidate keeps for that query. The candidates, cheapest first: special (with the sinks),
 * special+punctuation, special+punctuation+frequency (the {@code frequencyRatio} share of the
 * prompt with the most attention summed over all prompt queries, among the tokens the first two
 * sets leave out), special+punctuation+frequency+local (plus the {@code localRatio} share of the
 * prompt closest before the query), full.
 *
 * <p>The profile is taken in the prompt's own attention pass, not in a second one. Summed over the
 * queries, a candidate's mass regroups by entry: the special, punctuation and frequency sets are
 * the same for every query, so their part is the sum of their entries' accumulated attention,
 * which the head's statistics already hold once the pass is over (and which also decide the
 * frequency set). Only the local set depends on the query: an entry counts for the queries fewer
 * than the local window after it, so the pass hands this profile every query's probabilities
 * ({@link #add}) and it sums, per entry, what the entry received from those queries. Recovery of
 * the last candidate but full = (Σ attention over the first three sets + Σ local attention over
 * the other entries) / rows.
 */
public final class FastGenProfile implements PromptAttention.AttentionRows {
    /** Candidate names in order of cost; the last keeps everything. */
    static final String[] CANDIDATES = {"special", "special+punctuation", "special+punctuation+frequency",
            "special+punctuation+frequency+local", "full"};

    private final Entries kept;
    private final int[] positions;
    /** Per entry: 0 where the special set (with the sinks) holds it, 1 where the punctuation set does, else 3. */
    private final byte[] tokenSet;
    private final int localWindow;
    private final int frequent;
    /** Per entry: the attention it received from the queries it is local to (fewer than {@link #localWindow} positions after it). */
    private final double[] local;
    private long rows;

    /**
     * Profiles {@code head} from the prompt's attention pass, which must not have run yet: its
     * entries are the prompt's, in position order.
     */
    FastGenProfile(HeadCache head, KvCache sequence, int sinks, double frequencyRatio, double localRatio) {
        kept = head.kept();
        int n = kept.size();
        if (!kept.tracksAttention() || n != head.size()) {
            throw new IllegalStateException("profiling needs a head that holds its prompt whole and tracks attention");
        }
        int length = sequence.length();
        positions = new int[n];
        tokenSet = new byte[n];
        int others = 0;
        for (int e = 0; e < n; e++) {
            positions[e] = kept.position(e);
            if (e > 0 && positions[e] <= positions[e - 1]) {
                throw new IllegalStateException("profiling needs the prompt's entries in position order");
            }
            TokenClass c = sequence.tokenClass(positions[e]);
            tokenSet[e] = (byte) (positions[e] < sinks || c == TokenClass.SPECIAL ? 0 : c == TokenClass.PUNCTUATION ? 1 : 3);
            others += tokenSet[e] == 3 ? 1 : 0;
        }
        frequent = Math.min(others, (int) Math.ceil(frequencyRatio * length));
        localWindow = (int) Math.ceil(localRatio * length);
        local = new double[n];
    }

    /**
     * Adds one query's attention probabilities over the first {@code visible} entries (attention
     * order): the entries within the local window before it, to their local attention.
     */
    @Override
    public void add(float[] probabilities, int visible, int queryPosition) {
        int from = Math.min(visible, positions.length);
        while (from > 0 && positions[from - 1] > queryPosition - localWindow) {
            from--;
        }
        synchronized (local) {
            for (int e = from; e < Math.min(visible, positions.length); e++) {
                local[e] += probabilities[e];
            }
            rows++;
        }
    }

    /**
     * Recovery of each candidate, in {@link #CANDIDATES} order (the last is 1), once every prompt
     * query has been added and the head's statistics hold what the pass summed.
     */
    public double[] recoveries() {
        int n = positions.length;
        byte[] firstCandidate = tokenSet.clone();
        // The frequency set: as at decode time, the entries with the most attention among those
        // the special and punctuation sets do not already hold.
        if (frequent > 0) {
            float[] ranked = new float[n];
            int others = 0;
            for (int e = 0; e < n; e++) {
                if (firstCandidate[e] == 3) {
                    ranked[others++] = kept.attention(e);
                }
            }
            java.util.Arrays.sort(ranked, 0, others);
            float threshold = ranked[others - frequent];
            int atThreshold = frequent;
            for (int r = 0; r < others; r++) {
                atThreshold -= ranked[r] > threshold ? 1 : 0;
            }
            for (int e = 0; e < n; e++) {
                float a = kept.attention(e);
                if (firstCandidate[e] == 3 && (a > threshold || (a == threshold && atThreshold-- > 0))) {
                    firstCandidate[e] = 2;
                }
            }
        }
        double[] set = new double[4];
        double localRest = 0;
        synchronized (local) {
            for (int e = 0; e < n; e++) {
                if (firstCandidate[e] == 3) {
                    localRest += local[e];
                } else {
                    set[firstCandidate[e]] += kept.attention(e);
                }
            }
            double[] r = new double[CANDIDATES.length];
            double mass = 0;
            for (int c = 0; c < 3; c++) {
                mass += set[c];
                r[c] = rows == 0 ? 1 : mass / rows;
            }
            r[3] = rows == 0 ? 1 : (mass + localRest) / rows;
            r[CANDIDATES.length - 1] = 1;
            return r;
        }
    }

    /** The index of the cheapest candidate that recovers at least {@code threshold}. */
    int choose(double threshold) {
        double[] r = recoveries();
        for (int c = 0; c < r.length; c++) {
            if (r[c] >= threshold) {
                return c;
            }
        }
        return r.length - 1;
    }
}
