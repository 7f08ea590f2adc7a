package io.kvcache.core.tensor;

/** bfloat16 conversions (the upper 16 bits of a float), rounding to nearest even like ggml. */
public final class BFloat16s {
    private BFloat16s() {
    }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            // NaN: truncating could clear every mantissa bit and give infinity, so force a quiet NaN.
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** {@code value} rounded to the nearest bf16 value, as a float. */
    public static float round(float value) {
        return toFloat(fromFloat(value));
    }
}
