package io.kvcache.core.kv;

/**
 * The precision a cache stores the entries its policy keeps as computed ({@code kvcache.kv-type}):
 * fp16, or per-token groups of 8, 4, 3 or 2-bit codes symmetric about zero with an fp16 scale per group
 * (see {@link LowBitRows}). A quantized type also stores its keys rotated by a Walsh-Hadamard
 * transform, and the forward pass rotates the queries alike, so attention scores are those of the
 * unrotated keys up to the quantization error. It combines with every policy: a policy decides
 * which entries stay, the type how each is stored.
 */
public enum KvType {
    F16("f16", 16), Q8("q8", 8), Q4("q4", 4), Q3("q3", 3), Q2("q2", 2);

    /** The setting's name under {@code kvcache.}. */
    public static final String SETTING = "kv-type";
    /** The setting naming how many of the latest entries a quantized type keeps in fp16. */
    public static final String RESIDUAL_SETTING = "kv-residual";
    /** 32 latest entries in fp16 (KIVI's residual): see docs/kv-quality.md. */
    public static final int DEFAULT_RESIDUAL = 32;

    private final String value;
    private final int bits;

    KvType(String value, int bits) {
        this.value = value;
        this.bits = bits;
    }

    /** The {@code kvcache.kv-type} value naming it. */
    public String value() {
        return value;
    }

    /** Bits per stored value, before the groups' scales. */
    public int bits() {
        return bits;
    }

    /** Whether keys are stored rotated (every quantized type). */
    public boolean rotatesKeys() {
        return this != F16;
    }

    /** The type named {@code value}, or an error naming the property and the choices. */
    public static KvType of(String value) {
        return PolicyChecks.named(SETTING, value, values(), KvType::value);
    }
}
