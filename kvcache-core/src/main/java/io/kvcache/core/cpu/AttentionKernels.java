package io.kvcache.core.cpu;

import io.kvcache.core.tensor.Float16s;
import io.kvcache.core.tensor.LaneSums;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Attention of one query over the entries a head holds, in the two ways llama.cpp's CPU backend
 * computes it with an fp16 KV cache, so that our logits compare with its own:
 *
 * <ul>
 *   <li>{@link #halfPrecision}: its one-query-at-a-time flash attention, used for decode steps and
 *       short batches: the query is rounded to fp16, scores are fp16 dot products summed as its
 *       AVX-512 kernel sums them, softmax is online, and the weighted values are accumulated in
 *       fp16. fp16 accumulation makes later roundings depend on earlier ones, so the order of every
 *       operation is reproduced.</li>
 *   <li>{@link #singlePrecision}: its tiled flash attention for batches of many queries (prompt
 *       processing), which converts keys and values to float and accumulates in float.</li>
 * </ul>
 * Compressed caches, which have no llama.cpp counterpart, use {@link #scoreRows}, {@link #softmax}
 * and {@link #addWeightedValues} (a decode step) and {@link #weightedTiled} (a batch): a plain float softmax that also hands back each entry's
 * attention probability and honours logit biases.
 *
 * <p>Each takes the entries a query sees as a range: a sliding-window layer's query skips the
 * entries before its window ({@code first}), as llama.cpp's mask does. A positive {@code softCap}
 * bends every score s to softCap * tanh(s / softCap) (Gemma 2), with the scale divided by the cap
 * before the product as llama.cpp folds it.
 */
final class AttentionKernels {
    /** Eight lanes: two of these make one 16-lane AVX-512 register of the fp16 dot product we reproduce. */
    private static final VectorSpecies<Float> HALF_REGISTER = FloatVector.SPECIES_256;
    /** Elements consumed per step of that dot product: four 16-lane accumulators. */
    private static final int HALF_DOT_STEP = 64;
    /** Lanes of the fp16 accumulator updates. */
    private static final VectorSpecies<Float> HALF_LANES = Float16s.species();
    /** Cache entries per tile of the tiled kernel (ggml's GGML_FA_TILE_KV). */
    static final int KV_TILE = 64;
    private static final VectorSpecies<Float> EXP = FloatVector.SPECIES_PREFERRED;
    /** Doubles of the decode kernel's exponentials, and the floats that widen into them. */
    private static final VectorSpecies<Double> EXP_DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> EXP_FLOATS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(EXP_DOUBLES.vectorBitSize() / 2));

    private AttentionKernels() {
    }

    /**
     * One query over the keys/values [first, entries) held as fp16 (decoded into {@code keys} and
     * {@code values}), fp16 accumulation; the result goes to {@code out[outOff..outOff+vd)}.
     * {@code query} must already be rounded to fp16. {@code accumulator} needs vd floats,
     * {@code scores} and {@code factors} {@code entries} floats each.
     *
     * <p>llama.cpp interleaves score, exponential and accumulation entry by entry. Only the
     * accumulation depends on what came before, and the running maximum depends on the scores
     * alone, so the scores and every entry's exponential (the rescale when it raises the maximum,
     * its weight otherwise) are computed first, the exponentials many lanes at a time; the fp16
     * accumulation then runs in the original order on the same values.
     */
    static void halfPrecision(float[] query, int qOff, float[] keys, float[] values, int first, int entries, int hd, int vd,
                              float scale, float softCap, float[] out, int outOff, float[] accumulator, float[] scores,
                              float[] factors) {
        float scoreScale = softCap > 0 ? scale / softCap : scale;
        halfDots(query, qOff, keys, first, entries, hd, scoreScale, scores);
        if (softCap > 0) {
            capScores(scores, first, entries, softCap);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int e = first; e < entries; e++) {
            float score = scores[e];
            if (score > max) {
                factors[e] = max - score;
                max = score;
            } else {
                factors[e] = score - max;
            }
        }
        exp(factors, first, entries);
        Arrays.fill(accumulator, 0, vd, 0f);
        max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int e = first; e < entries; e++) {
            float rescale = 1f;
            float weight = 1f;
            if (scores[e] > max) {
                rescale = factors[e];
                max = scores[e];
                scaleHalf(accumulator, vd, rescale);
            } else {
                weight = factors[e];
            }
            accumulateHalf(values, e * vd, weight, accumulator, vd);
            sum = Math.fma(sum, rescale, weight); // S*ms + vs, fused by GCC as in ggml's build
        }
        float inverse = sum == 0f ? 0f : 1f / sum;
        for (int d = 0; d < vd; d++) {
            out[outOff + d] = accumulator[d] * inverse;
        }
    }

    /** scores[e] = softCap * tanh(scores[e]) over [from, to), as ggml's soft-capping computes it (tanhf, then the product). */
    private static void capScores(float[] scores, int from, int to, float softCap) {
        for (int e = from; e < to; e++) {
            scores[e] = softCap * (float) Math.tanh(scores[e]);
        }
    }

    /** Per thread, the doubles {@link #exp} works in. */
    private static final ThreadLocal<double[]> WIDE = ThreadLocal.withInitial(() -> new double[0]);

    /**
     * x[i] = (float) Math.exp(x[i]) for i in [from, n). The vector lanes take exp in double and round
     * once to float, which gave exactly {@code (float) Math.exp} for every float argument in
     * [-104, 0] (checked exhaustively; the softmax only passes arguments &lt;= 0, and below -104
     * both are 0), at a sixth of the scalar cost. The widening and the rounding are scalar loops:
     * C2 fell back to boxing every vector of a float-to-double shape change inside the decode's
     * attention (gigabytes of garbage per thousand tokens).
     */
    private static void exp(float[] x, int from, int n) {
        double[] wide = WIDE.get();
        if (wide.length < n) {
            wide = new double[Math.max(n, 2 * wide.length)];
            WIDE.set(wide);
        }
        for (int i = from; i < n; i++) {
            wide[i] = x[i];
        }
        int i = from;
        for (int bound = from + EXP_DOUBLES.loopBound(n - from); i < bound; i += EXP_DOUBLES.length()) {
            DoubleVector.fromArray(EXP_DOUBLES, wide, i).lanewise(VectorOperators.EXP).intoArray(wide, i);
        }
        for (; i < n; i++) {
            wide[i] = Math.exp(wide[i]);
        }
        for (int k = from; k < n; k++) {
            x[k] = (float) wide[k];
        }
    }

    /**
     * acc = fp16(acc * factor), element by element. Scalar on purpose: it runs only when an entry
     * raises the running maximum, a branch too rare for C2 to profile its vector code, which it
     * then compiled into boxing fallbacks (the largest garbage of a long decode).
     */
    private static void scaleHalf(float[] acc, int n, float factor) {
        for (int d = 0; d < n; d++) {
            acc[d] = toHalf(acc[d] * factor);
        }
    }

    /** acc = fp16(value * weight + acc) with one rounding for the fused multiply-add, element by element. */
    private static void accumulateHalf(float[] values, int off, float weight, float[] acc, int n) {
        int d = 0;
        for (int bound = HALF_LANES.loopBound(n); d < bound; d += HALF_LANES.length()) {
            FloatVector v = FloatVector.fromArray(HALF_LANES, values, off + d);
            Float16s.round(v.fma(FloatVector.broadcast(HALF_LANES, weight), FloatVector.fromArray(HALF_LANES, acc, d))).intoArray(acc, d);
        }
        for (; d < n; d++) {
            acc[d] = toHalf(Math.fma(values[off + d], weight, acc[d]));
        }
    }

    /**
     * One query over {@code entries} keys/values as floats, as ggml's tiled flash attention computes
     * it: keys are taken in tiles of {@link #KV_TILE} cache entries; a score is a fused
     * multiply-add chain over the head dimension, times the scale; per tile the running maximum is
     * updated (rescaling the sum and accumulator by expf of the change), the tile's exponentials come
     * from ggml_v_expf and are summed per 16 in the AVX-512 reduction order into a double that is
     * added to the float sum, and the values are accumulated with one fused multiply-add per entry.
     * {@code tile} needs {@link #KV_TILE} floats.
     */
    static void singlePrecision(float[] query, int qOff, float[] keysByDimension, int stride, float[] values, int firstEntry,
                                int entries, int hd, int vd, float scale, float softCap, float[] out, int outOff, float[] tile) {
        Arrays.fill(out, outOff, outOff + vd, 0f);
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        float scoreScale = softCap > 0 ? scale / softCap : scale;
        for (int first = firstEntry; first < entries; first += KV_TILE) {
            int n = Math.min(KV_TILE, entries - first);
            scores(query, qOff, keysByDimension, stride, first, hd, scoreScale, tile);
            if (softCap > 0) {
                capScores(tile, 0, n, softCap);
            }
            float tileMax = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < n; t++) {
                tileMax = Math.max(tileMax, tile[t]);
            }
            if (tileMax > max) {
                float rescale = (float) Math.exp(max - tileMax);
                for (int d = 0; d < vd; d++) {
                    out[outOff + d] *= rescale;
                }
                sum *= rescale;
                max = tileMax;
            }
            // masked entries of the tile: exp(-inf) = 0
            Arrays.fill(tile, n, KV_TILE, max);
            FloatVector m = FloatVector.broadcast(EXP, max);
            for (int t = 0; t < KV_TILE; t += EXP.length()) {
                VectorMath.expAvx512(FloatVector.fromArray(EXP, tile, t).sub(m)).intoArray(tile, t);
            }
            Arrays.fill(tile, n, KV_TILE, 0f);
            double tileSum = 0;
            for (int g = 0; g < KV_TILE; g += 16) {
                tileSum += sum16(tile, g);
            }
            sum = (float) (sum + tileSum);
            addWeightedValues(tile, 0, n, values, first * vd, out, outOff, vd);
        }
        float inverse = sum == 0f ? 0f : 1f / sum;
        for (int d = 0; d < vd; d++) {
            out[outOff + d] *= inverse;
        }
    }

    /**
     * tile[t] = scale * (query . key[first + t]) for the {@link #KV_TILE} entries of a tile, a lane
     * per entry, each lane one fused multiply-add chain over the head dimension in order. The
     * chains of the tile's lane groups are independent, so they run interleaved: one chain alone
     * waits on each fused multiply-add's latency.
     */
    private static void scores(float[] query, int qOff, float[] keysByDimension, int stride, int first, int hd,
                               float scale, float[] tile) {
        int width = EXP.length();
        if (KV_TILE != 4 * width) {
            for (int t = 0; t < KV_TILE; t += width) {
                FloatVector score = FloatVector.zero(EXP);
                for (int d = 0; d < hd; d++) {
                    score = FloatVector.fromArray(EXP, keysByDimension, d * stride + first + t)
                            .fma(FloatVector.broadcast(EXP, query[qOff + d]), score);
                }
                score.mul(scale).intoArray(tile, t);
            }
            return;
        }
        FloatVector s0 = FloatVector.zero(EXP);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        for (int d = 0, k = first; d < hd; d++, k += stride) {
            FloatVector q = FloatVector.broadcast(EXP, query[qOff + d]);
            s0 = FloatVector.fromArray(EXP, keysByDimension, k).fma(q, s0);
            s1 = FloatVector.fromArray(EXP, keysByDimension, k + width).fma(q, s1);
            s2 = FloatVector.fromArray(EXP, keysByDimension, k + 2 * width).fma(q, s2);
            s3 = FloatVector.fromArray(EXP, keysByDimension, k + 3 * width).fma(q, s3);
        }
        s0.mul(scale).intoArray(tile, 0);
        s1.mul(scale).intoArray(tile, width);
        s2.mul(scale).intoArray(tile, 2 * width);
        s3.mul(scale).intoArray(tile, 3 * width);
    }

    /**
     * out[d] = fma(weights[w + t], values[v + t*vd + d], out[d]) for t in [0, n), in that order for every
     * d (ggml adds the entries one after another), with up to four vectors of {@code out} held in
     * registers across the entries instead of stored and reloaded after each one. A decode step
     * adds a compressed head's entries a tile at a time in order, which sums each out[d] in the
     * same order as one call over them all.
     */
    static void addWeightedValues(float[] weights, int w, int n, float[] values, int v, float[] out, int outOff,
                                          int vd) {
        int width = EXP.length();
        int d = 0;
        for (; d + 4 * width <= vd; d += 4 * width) {
            int o = outOff + d;
            FloatVector a0 = FloatVector.fromArray(EXP, out, o);
            FloatVector a1 = FloatVector.fromArray(EXP, out, o + width);
            FloatVector a2 = FloatVector.fromArray(EXP, out, o + 2 * width);
            FloatVector a3 = FloatVector.fromArray(EXP, out, o + 3 * width);
            for (int t = 0, at = v + d; t < n; t++, at += vd) {
                FloatVector p = FloatVector.broadcast(EXP, weights[w + t]);
                a0 = FloatVector.fromArray(EXP, values, at).fma(p, a0);
                a1 = FloatVector.fromArray(EXP, values, at + width).fma(p, a1);
                a2 = FloatVector.fromArray(EXP, values, at + 2 * width).fma(p, a2);
                a3 = FloatVector.fromArray(EXP, values, at + 3 * width).fma(p, a3);
            }
            a0.intoArray(out, o);
            a1.intoArray(out, o + width);
            a2.intoArray(out, o + 2 * width);
            a3.intoArray(out, o + 3 * width);
        }
        for (; d + width <= vd; d += width) {
            int o = outOff + d;
            FloatVector a = FloatVector.fromArray(EXP, out, o);
            for (int t = 0, at = v + d; t < n; t++, at += vd) {
                a = FloatVector.fromArray(EXP, values, at).fma(FloatVector.broadcast(EXP, weights[w + t]), a);
            }
            a.intoArray(out, o);
        }
        for (; d < vd; d++) {
            float a = out[outOff + d];
            for (int t = 0, at = v + d; t < n; t++, at += vd) {
                a = Math.fma(weights[w + t], values[at], a);
            }
            out[outOff + d] = a;
        }
    }

    /**
     * A decode step's scores of one query over rows of keys: {@code scores[sOff + e]} = q·k_e times
     * the scale ({@code scale / softCap} where there is a cap) for the {@code rows} keys held as
     * floats in {@code keys} from index 0. A compressed head's entries come a tile at a time, so
     * that a tile's keys, decoded once, serve every query head of the group from the first-level
     * cache; each entry's score is the same whichever tile it falls in.
     */
    static void scoreRows(float[] query, int qOff, float[] keys, int rows, int hd, float scale, float softCap,
                          float[] scores, int sOff) {
        float scoreScale = softCap > 0 ? scale / softCap : scale;
        for (int e = 0; e < rows; e++) {
            scores[sOff + e] = dot(query, qOff, keys, e * hd, hd) * scoreScale;
        }
    }

    /**
     * A batch's queries over a compressed head's entries with an optional logit bias per entry
     * (null for none): scores q·k * scale + bias, a float softmax whose probabilities stay in
     * {@code probabilities[0, entries)}, and the weighted sum of values to
     * {@code out[outOff..outOff+vd)}. The keys come dimension by dimension
     * ({@code keys[e][d]} at {@code d * stride + e}, stride a multiple of {@link #KV_TILE}) and are
     * scored a tile of entries at a time, a lane per entry, as {@link #singlePrecision} scores
     * them. {@code tile} needs {@link #KV_TILE} floats.
     */
    static void weightedTiled(float[] query, int qOff, float[] keysByDimension, int stride, float[] values, float[] biases,
                              int entries, int hd, int vd, float scale, float softCap, float[] out, int outOff,
                              float[] probabilities, float[] tile) {
        float scoreScale = softCap > 0 ? scale / softCap : scale;
        for (int first = 0; first < entries; first += KV_TILE) {
            scores(query, qOff, keysByDimension, stride, first, hd, scoreScale, tile);
            System.arraycopy(tile, 0, probabilities, first, Math.min(KV_TILE, entries - first));
        }
        if (entries > 0) {
            softmax(probabilities, 0, entries, biases, softCap);
        }
        Arrays.fill(out, outOff, outOff + vd, 0f);
        addWeightedValues(probabilities, 0, entries, values, 0, out, outOff, vd);
    }

    /**
     * The scores x[pOff, pOff + entries) (q·k times the scale) to probabilities: soft-capped where
     * {@code softCap} > 0, plus their logit biases (null: none), then a float softmax. At least
     * one entry.
     */
    static void softmax(float[] x, int pOff, int entries, float[] biases, float softCap) {
        if (softCap > 0) {
            capScores(x, pOff, pOff + entries, softCap);
        }
        if (biases != null) {
            for (int e = 0; e < entries; e++) {
                x[pOff + e] += biases[e];
            }
        }
        float max = max(x, pOff, pOff + entries);
        float sum = expMinus(x, pOff, pOff + entries, max);
        scale(x, pOff, pOff + entries, 1f / sum);
    }

    /** The largest of x[from, to). */
    private static float max(float[] x, int from, int to) {
        int i = from;
        float max = Float.NEGATIVE_INFINITY;
        if (to - from >= EXP.length()) {
            FloatVector m = FloatVector.broadcast(EXP, Float.NEGATIVE_INFINITY);
            for (int bound = from + EXP.loopBound(to - from); i < bound; i += EXP.length()) {
                m = m.max(FloatVector.fromArray(EXP, x, i));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < to; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }

    /** x[i] = exp(x[i] - max) for i in [from, to) as {@link #exp} takes it; returns their sum, in double lanes. */
    private static float expMinus(float[] x, int from, int to, float max) {
        int i = from;
        DoubleVector sums = DoubleVector.zero(EXP_DOUBLES);
        for (int bound = from + EXP_FLOATS.loopBound(to - from); i < bound; i += EXP_FLOATS.length()) {
            DoubleVector wide = (DoubleVector) FloatVector.fromArray(EXP_FLOATS, x, i).sub(max)
                    .convertShape(VectorOperators.F2D, EXP_DOUBLES, 0);
            FloatVector e = (FloatVector) wide.lanewise(VectorOperators.EXP).convertShape(VectorOperators.D2F, EXP_FLOATS, 0);
            e.intoArray(x, i);
            sums = sums.add((DoubleVector) e.convertShape(VectorOperators.F2D, EXP_DOUBLES, 0));
        }
        double sum = sums.reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        return (float) sum;
    }

    /** x[i] *= factor for i in [from, to). */
    private static void scale(float[] x, int from, int to, float factor) {
        int i = from;
        for (int bound = from + EXP.loopBound(to - from); i < bound; i += EXP.length()) {
            FloatVector.fromArray(EXP, x, i).mul(factor).intoArray(x, i);
        }
        for (; i < to; i++) {
            x[i] *= factor;
        }
    }

    /** Float dot product of x[xOff..xOff+n) and y[yOff..yOff+n), lanes summed in a fixed order. */
    private static float dot(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        float sum = 0f;
        int bound = EXP.loopBound(n);
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(EXP);
            for (; i < bound; i += EXP.length()) {
                acc = FloatVector.fromArray(EXP, x, xOff + i).fma(FloatVector.fromArray(EXP, y, yOff + i), acc);
            }
            sum = LaneSums.sum(acc);
        }
        for (; i < n; i++) {
            sum = Math.fma(x[xOff + i], y[yOff + i], sum);
        }
        return sum;
    }

    /** _mm512_reduce_add_ps of x[at..at+16): lanes i and i+8, then i and i+4, i and i+2, the last pair. */
    private static float sum16(float[] x, int at) {
        float t0 = (x[at] + x[at + 8]) + (x[at + 4] + x[at + 12]);
        float t1 = (x[at + 1] + x[at + 9]) + (x[at + 5] + x[at + 13]);
        float t2 = (x[at + 2] + x[at + 10]) + (x[at + 6] + x[at + 14]);
        float t3 = (x[at + 3] + x[at + 11]) + (x[at + 7] + x[at + 15]);
        return (t0 + t2) + (t1 + t3);
    }

    /** Entries whose dot products {@link #halfDots} forms before it reduces them. */
    private static final int DOT_CHUNK = 64;
    /** Per thread, the 8-lane partial sums of a chunk of entries, entry after entry. */
    private static final ThreadLocal<float[]> PARTIALS =
            ThreadLocal.withInitial(() -> new float[HALF_REGISTER.length() * DOT_CHUNK]);

    /**
     * scores[e] = {@link #halfDot}(x, keys row e) * scale for the entries [from, to). Where the head
     * width is whole blocks of 64, the entries' 8-lane partial sums are formed first and then each
     * is reduced with scalar additions in the AVX-512 reduction's order: the same floats, without
     * a chain of lane shuffles per entry (2.4 times faster at width 64).
     */
    static void halfDots(float[] x, int xOff, float[] keys, int from, int to, int n, float scale, float[] scores) {
        if (n % HALF_DOT_STEP != 0) {
            for (int e = from; e < to; e++) {
                scores[e] = halfDot(x, xOff, keys, e * n, n) * scale;
            }
            return;
        }
        float[] p = PARTIALS.get();
        for (int first = from; first < to; first += DOT_CHUNK) {
            int end = Math.min(to, first + DOT_CHUNK);
            for (int e = first; e < end; e++) {
                halfPartials(x, xOff, keys, e * n, n).intoArray(p, HALF_REGISTER.length() * (e - first));
            }
            for (int e = first, b = 0; e < end; e++, b += HALF_REGISTER.length()) {
                // hsum_float_8: lanes i and i+4, then i and i+2, then the last pair
                scores[e] = (((p[b] + p[b + 4]) + (p[b + 2] + p[b + 6])) + ((p[b + 1] + p[b + 5]) + (p[b + 3] + p[b + 7]))) * scale;
            }
        }
    }

    /**
     * Dot product of fp16-valued floats, summed in llama.cpp's order: blocks of 64 go through four
     * 16-lane fused multiply-add accumulators, which are added pairwise and then reduced across
     * lanes as the AVX-512 reduction does; the remainder is summed in double. Products of two fp16
     * values are exact in float, so only the order of additions matters, and it is kept.
     */
    static float halfDot(float[] x, int xOff, float[] y, int yOff, int n) {
        int blocks = n - n % HALF_DOT_STEP;
        double sum = 0;
        if (blocks > 0) {
            // Lane reduction: upper 8 + lower 8, then halving the rest as the AVX-512 reduction does.
            sum = LaneSums.sum(halfPartials(x, xOff, y, yOff, blocks));
        }
        for (int i = blocks; i < n; i++) {
            sum += x[xOff + i] * y[yOff + i];
        }
        return (float) sum;
    }

    /** The whole blocks of 64 of {@link #halfDot}'s sum, up to its lane reduction: lanes 0-7 plus lanes 8-15 of the 16-lane accumulator. */
    private static FloatVector halfPartials(float[] x, int xOff, float[] y, int yOff, int blocks) {
        // acc[j] lanes 0-7 in lo[j], lanes 8-15 in hi[j].
        FloatVector lo0 = FloatVector.zero(HALF_REGISTER), hi0 = lo0, lo1 = lo0, hi1 = lo0;
        FloatVector lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
        for (int i = 0; i < blocks; i += HALF_DOT_STEP) {
            lo0 = fma(x, xOff + i, y, yOff + i, lo0);
            hi0 = fma(x, xOff + i + 8, y, yOff + i + 8, hi0);
            lo1 = fma(x, xOff + i + 16, y, yOff + i + 16, lo1);
            hi1 = fma(x, xOff + i + 24, y, yOff + i + 24, hi1);
            lo2 = fma(x, xOff + i + 32, y, yOff + i + 32, lo2);
            hi2 = fma(x, xOff + i + 40, y, yOff + i + 40, hi2);
            lo3 = fma(x, xOff + i + 48, y, yOff + i + 48, lo3);
            hi3 = fma(x, xOff + i + 56, y, yOff + i + 56, hi3);
        }
        // acc0 += acc2; acc1 += acc3; acc0 += acc1
        FloatVector lo = lo0.add(lo2).add(lo1.add(lo3));
        FloatVector hi = hi0.add(hi2).add(hi1.add(hi3));
        return lo.add(hi);
    }

    private static FloatVector fma(float[] x, int xOff, float[] y, int yOff, FloatVector acc) {
        return FloatVector.fromArray(HALF_REGISTER, x, xOff).fma(FloatVector.fromArray(HALF_REGISTER, y, yOff), acc);
    }

    static float toHalf(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }
}
