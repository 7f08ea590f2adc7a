package io.kvcache.core.kv;

import java.util.Arrays;

/**
 * Applies a {@link HeadPolicy} to one head after a forward call: decides which entries of the
 * as-computed class stay, and drops, demotes or merges the others.
 */
final class Compactor {
    private boolean[] keep = new boolean[0];
    private int[] important = new int[0];
    private int[] rest = new int[0];
    private float[] ranked = new float[0];
    private float[] key = new float[0];
    private float[] value = new float[0];

    /**
     * @param length   tokens of the sequence so far
     * @param sinks    leading positions always kept
     * @param sequence the sequence, which classifies its tokens by position
     */
    void apply(HeadCache head, HeadPolicy policy, int length, int sinks, KvCache sequence) {
        applyTogether(new HeadCache[] {head}, 1, policy, length, sinks, sequence);
    }

    /**
     * Applies one policy to {@code heads[0, count)} of a layer, whose heavy hitters are chosen
     * together: each head keeps its sinks, recent and special tokens, and the group keeps the
     * {@code count} times {@link HeadPolicy#heavy} of its other entries with the most accumulated
     * attention, wherever they are (Ada-KV's pooled top-k; with one head, H2O's). Ties go to the
     * earlier head, then the earlier entry.
     */
    void applyTogether(HeadCache[] heads, int count, HeadPolicy policy, int length, int sinks, KvCache sequence) {
        if (policy.keepsAll()) {
            return;
        }
        int[] offsets = new int[count + 1];
        int width = 0;
        for (int g = 0; g < count; g++) {
            offsets[g + 1] = offsets[g] + heads[g].kept().size();
            width = Math.max(width, Math.max(heads[g].keyDim(), heads[g].valueDim()));
        }
        ensure(offsets[count], width);
        int recentFrom = length - policy.recent(length);
        boolean[] keep = keepScratch(offsets[count]);
        int candidates = 0;
        for (int g = 0; g < count; g++) {
            Entries kept = heads[g].kept();
            for (int e = 0; e < kept.size(); e++) {
                int position = kept.position(e);
                TokenClass c = sequence.tokenClass(position);
                boolean keeps = position < sinks || position >= recentFrom
                        || (policy.special() && c == TokenClass.SPECIAL)
                        || (policy.punctuation() && c == TokenClass.PUNCTUATION);
                keep[offsets[g] + e] = keeps;
                if (!keeps) {
                    candidates++;
                }
            }
        }
        long heavy = (long) count * policy.heavy(length);
        if (heavy > 0 && candidates > 0) {
            keepHeaviest(heads, count, offsets, keep, (int) Math.min(heavy, candidates));
        }
        for (int g = 0; g < count; g++) {
            finish(heads[g], policy, keep, offsets[g]);
        }
    }

    /** Drops, demotes or merges the entries of one head not marked in {@code keep[from, from + its entries)}. */
    private void finish(HeadCache head, HeadPolicy policy, boolean[] keep, int from) {
        Entries kept = head.kept();
        int importantCount = 0;
        int restCount = 0;
        for (int e = 0; e < kept.size(); e++) {
            if (keep[from + e]) {
                important[importantCount++] = e;
            } else {
                rest[restCount++] = e;
            }
        }
        if (restCount == 0) {
            return;
        }
        switch (policy.rest()) {
            case HeadPolicy.Rest.Drop drop -> kept.retain(important, importantCount);
            case HeadPolicy.Rest.Demote demote -> demote(head, restCount, importantCount);
            case HeadPolicy.Rest.Merge span -> merge(head, restCount, span);
        }
    }

    /** Marks the {@code wanted} unkept entries of the heads with the most accumulated attention (earlier first on ties). */
    private void keepHeaviest(HeadCache[] heads, int count, int[] offsets, boolean[] keep, int wanted) {
        int n = 0;
        for (int g = 0; g < count; g++) {
            Entries kept = heads[g].kept();
            for (int e = 0; e < kept.size(); e++) {
                if (!keep[offsets[g] + e]) {
                    ranked[n++] = kept.attention(e);
                }
            }
        }
        Arrays.sort(ranked, 0, n);
        float threshold = ranked[n - wanted];
        int above = 0;
        for (int i = n - wanted; i < n; i++) {
            if (ranked[i] > threshold) {
                above++;
            }
        }
        int atThreshold = wanted - above;
        for (int g = 0; g < count; g++) {
            Entries kept = heads[g].kept();
            for (int e = 0; e < kept.size(); e++) {
                if (!keep[offsets[g] + e]) {
                    float a = kept.attention(e);
                    if (a > threshold || (a == threshold && atThreshold-- > 0)) {
                        keep[offsets[g] + e] = true;
                    }
                }
            }
        }
    }

    private void demote(HeadCache head, int restCount, int importantCount) {
        Entries kept = head.kept();
        Entries low = head.lowPrecision();
        KeyBalance balance = head.keyBalance();
        for (int i = 0; i < restCount; i++) {
            int e = rest[i];
            kept.keys.decode(e, 1, key, 0);
            kept.values.decode(e, 1, value, 0);
            if (balance != null) {
                balance.divideKey(key, 0);
            }
            low.append(kept.position(e), key, 0, value, 0, kept.tracksAttention() ? kept.attention(e) : 0f, 0f);
        }
        kept.retain(important, importantCount);
    }

    /**
     * Merges whole spans of {@code span.length()} consecutive unkept entries into
     * {@code span.entries()} entries each: the attention-weighted mean of their keys and of their
     * values, with a logit bias of log(tokens merged) so the merged entry draws the attention its
     * tokens drew together. Unkept entries that do not fill a span wait as they are.
     */
    private void merge(HeadCache head, int restCount, HeadPolicy.Rest.Merge span) {
        Entries kept = head.kept();
        Entries merged = head.merged();
        int spans = restCount / span.length();
        if (spans == 0) {
            return;
        }
        int perEntry = span.length() / span.entries();
        int kd = head.keyDim();
        int vd = head.valueDim();
        float[] keys = new float[perEntry * kd];
        float[] values = new float[perEntry * vd];
        float[] mergedKey = new float[kd];
        float[] mergedValue = new float[vd];
        boolean[] gone = new boolean[kept.size()];
        for (int group = 0; group < spans * span.entries(); group++) {
            double total = 0;
            for (int j = 0; j < perEntry; j++) {
                int e = rest[group * perEntry + j];
                kept.keys.decode(e, 1, keys, j * kd);
                kept.values.decode(e, 1, values, j * vd);
                total += kept.attention(e);
                gone[e] = true;
            }
            Arrays.fill(mergedKey, 0f);
            Arrays.fill(mergedValue, 0f);
            for (int j = 0; j < perEntry; j++) {
                float weight = total > 0 ? (float) (kept.attention(rest[group * perEntry + j]) / total) : 1f / perEntry;
                for (int d = 0; d < kd; d++) {
                    mergedKey[d] += weight * keys[j * kd + d];
                }
                for (int d = 0; d < vd; d++) {
                    mergedValue[d] += weight * values[j * vd + d];
                }
            }
            int last = rest[group * perEntry + perEntry - 1];
            merged.append(kept.position(last), mergedKey, 0, mergedValue, 0, (float) total, (float) Math.log(perEntry));
        }
        int count = 0;
        for (int e = 0; e < gone.length; e++) {
            if (!gone[e]) {
                important[count++] = e;
            }
        }
        kept.retain(important, count);
    }

    private boolean[] keepScratch(int entries) {
        if (keep.length < entries) {
            keep = new boolean[entries * 2];
        }
        Arrays.fill(keep, 0, entries, false);
        return keep;
    }

    private void ensure(int entries, int width) {
        if (important.length < entries) {
            important = new int[entries * 2];
            rest = new int[entries * 2];
            ranked = new float[entries * 2];
        }
        if (key.length < width) {
            key = new float[width];
            value = new float[width];
        }
    }
}
