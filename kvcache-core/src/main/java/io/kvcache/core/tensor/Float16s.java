package io.kvcache.core.tensor;

/** IEEE 754 half precision (fp16) conversions, rounding to nearest even like the F16C instructions ggml uses. */
public final class Float16s {
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
}
