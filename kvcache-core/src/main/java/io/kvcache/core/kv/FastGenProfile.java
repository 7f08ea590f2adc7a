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
 */
public final class FastGenProfile implements PromptAttention.AttentionRows {
    /** Candidate names in order of cost; the last keeps everything. */
    static final String[] CANDIDATES = {"special", "special+punctuation", "special+punctuation+frequency",
            "special+punctuation+frequency+local", "full"};

    private final int[] positions;
    /** Per entry: the index of the cheapest candidate (0..2) whose row-independent set holds it, or 3 if none does. */
    private final byte[] firstCandidate;
    private final int localWindow;
    private final double[] mass = new double[CANDIDATES.length - 1];
    private long rows;

    FastGenProfile(HeadCache head, KvCache sequence, int sinks, double frequencyRatio, double localRatio) {
        Entries kept = head.kept();
        int n = kept.size();
        int length = sequence.length();
        positions = new int[n];
        firstCandidate = new byte[n];
        int others = 0;
        for (int e = 0; e < n; e++) {
            positions[e] = kept.position(e);
            TokenClass c = sequence.tokenClass(positions[e]);
            firstCandidate[e] = (byte) (positions[e] < sinks || c == TokenClass.SPECIAL ? 0 : c == TokenClass.PUNCTUATION ? 1 : 3);
            others += firstCandidate[e] == 3 ? 1 : 0;
        }
        // The frequency set: as at decode time, the entries with the most attention among those
        // the special and punctuation sets do not already hold.
        int frequent = Math.min(others, (int) Math.ceil(frequencyRatio * length));
        if (frequent > 0) {
            float[] ranked = new float[others];
            int r = 0;
            for (int e = 0; e < n; e++) {
                if (firstCandidate[e] == 3) {
                    ranked[r++] = kept.attention(e);
                }
            }
            java.util.Arrays.sort(ranked);
            float threshold = ranked[others - frequent];
            int atThreshold = frequent;
            for (float a : ranked) {
                atThreshold -= a > threshold ? 1 : 0;
            }
            for (int e = 0; e < n; e++) {
                float a = kept.attention(e);
                if (firstCandidate[e] == 3 && (a > threshold || (a == threshold && atThreshold-- > 0))) {
                    firstCandidate[e] = 2;
                }
            }
        }
        localWindow = (int) Math.ceil(localRatio * length);
    }

    /** Adds one query's attention probabilities over the first {@code visible} entries (attention order). */
    @Override
    public void add(float[] probabilities, int visible, int queryPosition) {
        double[] m = new double[4];
        for (int e = 0; e < visible; e++) {
            float p = probabilities[e];
            int first = firstCandidate[e];
            if (first == 3 && positions[e] <= queryPosition - localWindow) {
                continue; // kept by no candidate but full
            }
            for (int c = first; c < 4; c++) {
                m[c] += p;
            }
        }
        synchronized (mass) {
            for (int c = 0; c < 4; c++) {
                mass[c] += m[c];
            }
            rows++;
        }
    }

    /** Recovery of each candidate, in {@link #CANDIDATES} order (the last is 1). */
    public double[] recoveries() {
        double[] r = new double[CANDIDATES.length];
        for (int c = 0; c < mass.length; c++) {
            r[c] = rows == 0 ? 1 : mass[c] / rows;
        }
        r[CANDIDATES.length - 1] = 1;
        return r;
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
