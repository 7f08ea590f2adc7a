package io.kvcache.core.kv;

/**
 * How a quantized kv-type stores each group's scale ({@code kvcache.kv-scale}): fp16, or 8 bits
 * holding fp16's exponent and its 3 highest mantissa bits (e5m3, no sign: a scale is never
 * negative), each candidate scale rounded up to such a value. The scale is the overhead that
 * dominates narrow heads: one per row of a head of 16 values, 2 of a 4-bit row's 10 bytes; e5m3
 * halves it for a scale up to 12.5% coarser than fp16's, so a 4-bit row of 16 values takes 9
 * bytes, 4.5 bits a value (llama.cpp's q4_0 at its blocks of 32).
 */
public enum KvScale {
    F16("f16", 16), E5M3("e5m3", 8);

    /** The setting's name under {@code kvcache.}. */
    public static final String SETTING = "kv-scale";

    private final String value;
    private final int bits;

    KvScale(String value, int bits) {
        this.value = value;
        this.bits = bits;
    }

    /** The {@code kvcache.kv-scale} value naming it. */
    public String value() {
        return value;
    }

    /** Bits of one stored scale. */
    public int bits() {
        return bits;
    }

    /** The format named {@code value}, or an error naming the property and the choices. */
    public static KvScale of(String value) {
        return PolicyChecks.named(SETTING, value, values(), KvScale::value);
    }
}
