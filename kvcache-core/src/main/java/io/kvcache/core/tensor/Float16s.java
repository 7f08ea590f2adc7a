package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * IEEE 754 half precision (fp16) conversions, rounding to nearest even like the F16C instructions
 * ggml uses, bit-exact with {@link Float#float16ToFloat} and {@link Float#floatToFloat16}: single
 * values, arrays (loops that C2 compiles to the vector conversion instructions), and rounding in
 * the lanes of a float vector. The attention of every decode step converts the whole cache and
 * rounds its accumulators after every entry, so these conversions are among its main costs.
 * Rounding in the lanes handles subnormals too; only infinities and NaN (and overflow) take the
 * scalar path.
 */
public final class Float16s {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
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

    /**
     * dst[dstOff + i] = fp16 src[srcOff + i] as float, for i in [0, n). A plain loop on purpose: C2
     * compiles it to the hardware's vector conversion (vcvtph2ps), which converts the whole cache
     * of a decode step 1.6 times faster than exponent and mantissa arithmetic in vector lanes.
     */
    public static void toFloats(short[] src, int srcOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Float.float16ToFloat(src[srcOff + i]);
        }
    }

    /** dst[dstOff + i] = fp16 bits of src[srcOff + i], for i in [0, n). */
    public static void toHalves(float[] src, int srcOff, short[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Float.floatToFloat16(src[srcOff + i]);
        }
    }

    /**
     * x rounded to the nearest fp16 value, lane by lane. Finite lanes below fp16's overflow take no
     * branch: a lane that materialised the vector (as a scalar fallback for subnormals did) makes
     * C2 box it, and the decode's accumulators pass through the subnormal range often.
     */
    public static FloatVector round(FloatVector x) {
        IntVector bits = x.reinterpretAsInts();
        if (bits.and(0x7FFFFFFF).compare(VectorOperators.GE, OVERFLOW_BITS).anyTrue()) {
            return roundEachLane(x);
        }
        // x + c - c rounds x to a multiple of c's float spacing, ties to even, and the subtraction is
        // exact, where c = 1.5 * 2^(e + 13) for x's exponent e: |x| < 2^(e + 1) keeps x + c in c's
        // binade, whose spacing 2^(e - 10) is that of fp16 at exponent e. Below fp16's normals e is
        // taken as -14, whose spacing 2^-24 is that of its subnormals. Lanes that round to zero
        // get their sign back.
        FloatVector c = bits.and(0x7F800000).max(MIN_NORMAL_BITS).add((13 << 23) | 0x400000).reinterpretAsFloats();
        return x.add(c).sub(c).reinterpretAsInts().or(bits.and(0x80000000)).reinterpretAsFloats();
    }

    /** Overflow, infinities and NaN: the JDK's conversions, lane by lane. */
    private static FloatVector roundEachLane(FloatVector x) {
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
