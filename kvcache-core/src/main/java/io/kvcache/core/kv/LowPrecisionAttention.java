package io.kvcache.core.kv;

import io.kvcache.core.tensor.LaneSums;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention of a decode step's queries over the low-precision entries of a head, computed from
 * their codes: a key or value row is never expanded to floats. With a group's stored scale s and minimum m, a key value is
 * m + s * code, so
 * <pre>
 *   q . k = sum over groups g of  s_g * (q_g . codes_g)  +  m_g * sum(q_g)
 * </pre>
 * and the key balance (keys stored as k_c / f_c) is folded into the query once (q_c * f_c) instead
 * of into every key row. The weighted sum of values is formed the same way: each entry adds
 * weight * s_g times its codes, and the minima add weight * m_g to every value of their group.
 *
 * <p>4-bit rows whose groups are whole chunks of {@code 2L} codes (L float lanes) take the vector
 * path: a chunk is L bytes, its low nibbles are the even codes and its high nibbles the odd ones,
 * so the query is kept de-interleaved the same way and no shuffle is needed; the minima meet the
 * query's sum over each chunk. Other rows (2 and 3 bits, narrow groups) are decoded one row at a
 * time into a small buffer and dotted with the prepared query. The float order differs from decoding every row first, so results agree with
 * that to rounding (the compressed path has no llama.cpp counterpart; its quality figures pin it).
 *
 * <p>An instance holds per-thread buffers: use one per thread.
 */
public final class LowPrecisionAttention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final int L = F.length();
    /** L bytes: one chunk of 2L 4-bit codes. */
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 8));
    private static final int CHUNK = 2 * L;

    /** Query heads handled in one pass over the codes: their accumulators stay in registers. */
    static final int HEADS = 4;

    /** The prepared queries (see {@link #prepare}). */
    private float[] query = new float[0];
    /** One decoded row (the row-by-row path), or a chunk's accumulators (the vector path). */
    private float[] row = new float[0];

    /**
     * scores[scoresOff + i * stride + e] = scale * (q_i . k_e) for the head's low-precision
     * entries e in [0, {@link HeadCache#lowPrecisionEntries()}) and the {@code heads} queries q_i
     * at {@code queries[qOff + i * keyDim]}: the query heads of one key/value group, which share the
     * pass over the codes.
     */
    public void scores(HeadCache head, float[] queries, int qOff, int heads, float scale, float[] scores, int scoresOff,
                       int stride) {
        Entries low = head.lowPrecision();
        if (low == null || low.size() == 0) {
            return;
        }
        QuantizedRows keys = (QuantizedRows) low.keys;
        LowBitRows codec = keys.codec();
        boolean vector = vectorized(codec);
        int width = codec.width();
        for (int first = 0; first < heads; first += HEADS) {
            int n = Math.min(HEADS, heads - first);
            prepare(codec, queries, qOff + first * width, n, scale, head.keyBalance(), vector);
            int out = scoresOff + first * stride;
            if (vector) {
                scores4(keys.data(), codec, low.size(), query, n, scores, out, stride);
            } else {
                for (int i = 0; i < n; i++) {
                    scoresByRow(keys, low.size(), i * width, scores, out + i * stride);
                }
            }
        }
    }

    /**
     * out[outOff + i * valueDim + d] += sum over the head's low-precision entries e of
     * weights[wOff + i * stride + e] * v_e[d], for d in [0, valueDim) and each of the
     * {@code heads} query heads i.
     */
    public void addValues(HeadCache head, float[] weights, int wOff, int stride, int heads, float[] out, int outOff) {
        Entries low = head.lowPrecision();
        if (low == null || low.size() == 0) {
            return;
        }
        QuantizedRows values = (QuantizedRows) low.values;
        LowBitRows codec = values.codec();
        int width = codec.width();
        for (int first = 0; first < heads; first += HEADS) {
            int n = Math.min(HEADS, heads - first);
            int w = wOff + first * stride;
            int o = outOff + first * width;
            if (vectorized(codec)) {
                ensureRow(CHUNK);
                addValues4(values.data(), codec, low.size(), weights, w, stride, n, out, o);
            } else {
                for (int i = 0; i < n; i++) {
                    addValuesByRow(values, low.size(), weights, w + i * stride, out, o + i * width);
                }
            }
        }
    }

    /** Whether rows of this format take the vector path (see the class comment). */
    static boolean vectorized(LowBitRows codec) {
        return codec.bits() == 4 && !codec.symmetric() && codec.groupSize() % CHUNK == 0 && codec.width() % CHUNK == 0;
    }

    /**
     * For each of the {@code n} queries at q[qOff + i * width]: q * f * scale (f: the key balance,
     * or 1); on the vector path de-interleaved per chunk and followed by each chunk's sum, {@code
     * width + width / CHUNK} floats a query (see {@link #scores4}).
     */
    private void prepare(LowBitRows codec, float[] q, int qOff, int n, float scale, KeyBalance balance, boolean vector) {
        int width = codec.width();
        int size = width + width / CHUNK;
        if (query.length < HEADS * size) {
            query = new float[HEADS * size];
        }
        ensureRow(width);
        for (int i = 0; i < n; i++) {
            int at = i * (vector ? size : width);
            for (int c = 0; c < width; c++) {
                row[c] = q[qOff + i * width + c] * (balance == null ? 1f : balance.factor(c)) * scale;
            }
            if (!vector) {
                System.arraycopy(row, 0, query, at, width);
                continue;
            }
            for (int chunk = 0; chunk < width; chunk += CHUNK) {
                float sum = 0f;
                for (int j = 0; j < L; j++) {
                    query[at + chunk + j] = row[chunk + 2 * j];
                    query[at + chunk + L + j] = row[chunk + 2 * j + 1];
                    sum += row[chunk + 2 * j] + row[chunk + 2 * j + 1];
                }
                query[at + width + chunk / CHUNK] = sum;
            }
        }
    }

    private void ensureRow(int n) {
        if (row.length < n) {
            row = new float[n];
        }
    }

    /**
     * Scores of up to {@link #HEADS} prepared queries, one pass over the rows: each chunk's codes
     * are unpacked once for all of them, and its products scaled by its group's scale, so a row is
     * one flat loop over its chunks (nested loops over groups and chunks ran at half the speed).
     * The minima meet the query's sum over each chunk. Unused queries' accumulators stay zero.
     */
    private static void scores4(byte[] data, LowBitRows codec, int rows, float[] query, int n, float[] scores, int out,
                                int stride) {
        int rowBytes = codec.bytesPerRow();
        int chunksPerGroup = codec.groupSize() / CHUNK;
        int width = codec.width();
        int chunks = width / CHUNK;
        int size = width + chunks;
        int codes = codec.codesOffset();
        for (int r = 0, row = 0; r < rows; r++, row += rowBytes) {
            FloatVector t0 = FloatVector.zero(F);
            FloatVector t1 = t0;
            FloatVector t2 = t0;
            FloatVector t3 = t0;
            float m0 = 0f;
            float m1 = 0f;
            float m2 = 0f;
            float m3 = 0f;
            for (int k = 0, at = row + codes, q = 0, g = 0, inGroup = 0; k < chunks; k++, at += L, q += CHUNK) {
                ByteVector packed = ByteVector.fromArray(B, data, at);
                FloatVector lo = lowCodes(packed);
                FloatVector hi = highCodes(packed);
                FloatVector scale = FloatVector.broadcast(F, codec.scale(data, row, g));
                float min = codec.minimum(data, row, g);
                int sum = width + k;
                t0 = hi.fma(FloatVector.fromArray(F, query, q + L), lo.mul(FloatVector.fromArray(F, query, q))).fma(scale, t0);
                m0 += min * query[sum];
                if (n > 1) {
                    t1 = hi.fma(FloatVector.fromArray(F, query, size + q + L), lo.mul(FloatVector.fromArray(F, query, size + q)))
                            .fma(scale, t1);
                    m1 += min * query[size + sum];
                }
                if (n > 2) {
                    t2 = hi.fma(FloatVector.fromArray(F, query, 2 * size + q + L),
                            lo.mul(FloatVector.fromArray(F, query, 2 * size + q))).fma(scale, t2);
                    m2 += min * query[2 * size + sum];
                }
                if (n > 3) {
                    t3 = hi.fma(FloatVector.fromArray(F, query, 3 * size + q + L),
                            lo.mul(FloatVector.fromArray(F, query, 3 * size + q))).fma(scale, t3);
                    m3 += min * query[3 * size + sum];
                }
                if (++inGroup == chunksPerGroup) {
                    inGroup = 0;
                    g++;
                }
            }
            scores[out + r] = LaneSums.sum(t0) + m0;
            if (n > 1) {
                scores[out + stride + r] = LaneSums.sum(t1) + m1;
            }
            if (n > 2) {
                scores[out + 2 * stride + r] = LaneSums.sum(t2) + m2;
            }
            if (n > 3) {
                scores[out + 3 * stride + r] = LaneSums.sum(t3) + m3;
            }
        }
    }

    private static FloatVector lowCodes(ByteVector packed) {
        return (FloatVector) packed.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector highCodes(ByteVector packed) {
        // shifted as ints (x86 has no byte shift): the bits that come down from the next byte are masked off
        return (FloatVector) packed.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                .and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
    }

    /**
     * A chunk at a time: for each of up to {@link #HEADS} query heads, its even and odd codes'
     * weighted sums stay in two registers while every entry passes, then are interleaved into
     * {@code out} with the group's weighted minima.
     */
    private void addValues4(byte[] data, LowBitRows codec, int rows, float[] weights, int w, int stride, int n, float[] out,
                            int outOff) {
        int rowBytes = codec.bytesPerRow();
        int codes = codec.codesOffset();
        int groupSize = codec.groupSize();
        int width = codec.width();
        for (int chunk = 0; chunk < width; chunk += CHUNK) {
            int g = chunk / groupSize;
            FloatVector e0 = FloatVector.zero(F);
            FloatVector o0 = e0;
            FloatVector e1 = e0;
            FloatVector o1 = e0;
            FloatVector e2 = e0;
            FloatVector o2 = e0;
            FloatVector e3 = e0;
            FloatVector o3 = e0;
            float m0 = 0f;
            float m1 = 0f;
            float m2 = 0f;
            float m3 = 0f;
            for (int r = 0, at = 0; r < rows; r++, at += rowBytes) {
                ByteVector packed = ByteVector.fromArray(B, data, at + codes + chunk / 2);
                FloatVector lo = lowCodes(packed);
                FloatVector hi = highCodes(packed);
                float scale = codec.scale(data, at, g);
                float min = codec.minimum(data, at, g);
                float w0 = weights[w + r];
                FloatVector s0 = FloatVector.broadcast(F, w0 * scale);
                e0 = lo.fma(s0, e0);
                o0 = hi.fma(s0, o0);
                m0 += w0 * min;
                if (n > 1) {
                    float w1 = weights[w + stride + r];
                    FloatVector s1 = FloatVector.broadcast(F, w1 * scale);
                    e1 = lo.fma(s1, e1);
                    o1 = hi.fma(s1, o1);
                    m1 += w1 * min;
                }
                if (n > 2) {
                    float w2 = weights[w + 2 * stride + r];
                    FloatVector s2 = FloatVector.broadcast(F, w2 * scale);
                    e2 = lo.fma(s2, e2);
                    o2 = hi.fma(s2, o2);
                    m2 += w2 * min;
                }
                if (n > 3) {
                    float w3 = weights[w + 3 * stride + r];
                    FloatVector s3 = FloatVector.broadcast(F, w3 * scale);
                    e3 = lo.fma(s3, e3);
                    o3 = hi.fma(s3, o3);
                    m3 += w3 * min;
                }
            }
            interleave(e0, o0, m0, out, outOff + chunk);
            if (n > 1) {
                interleave(e1, o1, m1, out, outOff + width + chunk);
            }
            if (n > 2) {
                interleave(e2, o2, m2, out, outOff + 2 * width + chunk);
            }
            if (n > 3) {
                interleave(e3, o3, m3, out, outOff + 3 * width + chunk);
            }
        }
    }

    /** out[at + 2j] += even[j] + minimums, out[at + 2j + 1] += odd[j] + minimums. */
    private void interleave(FloatVector even, FloatVector odd, float minimums, float[] out, int at) {
        even.intoArray(row, 0);
        odd.intoArray(row, L);
        for (int j = 0; j < L; j++) {
            out[at + 2 * j] += row[j] + minimums;
            out[at + 2 * j + 1] += row[L + j] + minimums;
        }
    }

    /** The row-by-row path: each key decoded into {@code row} (minimum and scale applied), dotted with the prepared query at {@code q}. */
    private void scoresByRow(QuantizedRows keys, int rows, int q, float[] scores, int out) {
        int width = keys.width();
        for (int r = 0; r < rows; r++) {
            keys.decode(r, 1, row, 0);
            float sum = 0f;
            for (int c = 0; c < width; c++) {
                sum = Math.fma(query[q + c], row[c], sum);
            }
            scores[out + r] = sum;
        }
    }

    private void addValuesByRow(QuantizedRows values, int rows, float[] weights, int w, float[] out, int outOff) {
        int width = values.width();
        ensureRow(width);
        for (int r = 0; r < rows; r++) {
            values.decode(r, 1, row, 0);
            float weight = weights[w + r];
            for (int d = 0; d < width; d++) {
                out[outOff + d] = Math.fma(weight, row[d], out[outOff + d]);
            }
        }
    }
}
