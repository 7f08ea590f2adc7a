package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * IEEE 754 half precision (fp16) conversions, rounding to nearest even like the F16C instructions
 * ggml uses: single values, and arrays on the Vector API, bit-exact with {@link Float#float16ToFloat} and
 * {@link Float#floatToFloat16} (round to nearest even). The attention of every decode step converts
 * the whole cache and rounds its accumulators after every entry, so the scalar conversions were
 * its main cost. Lanes outside fp16's normal range (subnormals, overflow, NaN) take the scalar path.
 */
public final class Float16s {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** 2^-14, the smallest normal fp16, as float bits. */
    private static final int MIN_NORMAL_BITS = 0x38800000;
    /** 65520: from here on a float rounds to fp16 infinity. */
    private static final int OVERFLOW_BITS = 0x477FF000;

    private Float16s() {
    }

    public static float toFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short fromFloat(float value) {
        return Float.floatToFloat16(value);
    }

    /** {@code value} rounded to the nearest fp16 value, as a float. */
    public static float round(float value) {
        return Float.float16ToFloat(Float.floatToFloat16(value));
    }

    /** dst[dstOff + i] = fp16 src[srcOff + i] as float, for i in [0, n). */
    public static void toFloats(short[] src, int srcOff, float[] dst, int dstOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            IntVector h = (IntVector) ShortVector.fromArray(S, src, srcOff + i).convertShape(VectorOperators.S2I, I, 0);
            IntVector exponent = h.lanewise(VectorOperators.LSHR, 10).and(0x1F);
            VectorMask<Integer> normal = exponent.compare(VectorOperators.NE, 0).and(exponent.compare(VectorOperators.NE, 0x1F));
            VectorMask<Integer> zero = h.and(0x7FFF).compare(VectorOperators.EQ, 0);
            if (normal.or(zero).allTrue()) {
                IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
                // Rebias the exponent (15 -> 127) and widen the mantissa (10 -> 23 bits).
                IntVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).add(112 << 23);
                IntVector bits = sign.or(magnitude.blend(0, zero));
                bits.reinterpretAsFloats().intoArray(dst, dstOff + i);
            } else {
                for (int j = i; j < i + F.length(); j++) {
                    dst[dstOff + j] = Float.float16ToFloat(src[srcOff + j]);
                }
            }
        }
        for (; i < n; i++) {
            dst[dstOff + i] = Float.float16ToFloat(src[srcOff + i]);
        }
    }

    /** dst[dstOff + i] = fp16 bits of src[srcOff + i], for i in [0, n). */
    public static void toHalves(float[] src, int srcOff, short[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Float.floatToFloat16(src[srcOff + i]);
        }
    }

    /** x rounded to the nearest fp16 value, lane by lane. */
    public static FloatVector round(FloatVector x) {
        IntVector bits = x.reinterpretAsInts();
        IntVector magnitude = bits.and(0x7FFFFFFF);
        VectorMask<Integer> fast = magnitude.compare(VectorOperators.EQ, 0)
                .or(magnitude.compare(VectorOperators.GE, MIN_NORMAL_BITS).and(magnitude.compare(VectorOperators.LT, OVERFLOW_BITS)));
        if (fast.allTrue()) {
            // Round the 23-bit mantissa to 10 bits, ties to even, by adding just under half a unit plus the last kept bit.
            IntVector lastKept = bits.lanewise(VectorOperators.LSHR, 13).and(1);
            return bits.add(0xFFF).add(lastKept).and(0xFFFFE000).reinterpretAsFloats();
        }
        float[] lanes = x.toArray();
        for (int j = 0; j < lanes.length; j++) {
            lanes[j] = Float.float16ToFloat(Float.floatToFloat16(lanes[j]));
        }
        return FloatVector.fromArray(F, lanes, 0);
    }

    /** Rounds x[off, off+n) to fp16 values in place. */
    public static void round(float[] x, int off, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            round(FloatVector.fromArray(F, x, off + i)).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] = Float.float16ToFloat(Float.floatToFloat16(x[off + i]));
        }
    }

    /** The species whose lanes {@link #round(FloatVector)} takes. */
    public static VectorSpecies<Float> species() {
        return F;
    }
}
