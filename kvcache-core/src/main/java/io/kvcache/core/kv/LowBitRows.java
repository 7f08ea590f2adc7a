package io.kvcache.core.kv;

/**
 * Asymmetric group-wise quantization of one row (a key or a value) to 2, 3, 4 or 8 bits. A row
 * is, per group of {@code groupSize} values, an fp16 scale and an fp16 minimum, followed by
 * every code packed as a little-endian bit stream: {@code bytesPerRow() = groups * 4 +
 * ceil(width * bits / 8)}. A value decodes to min + code * scale; codes are chosen against the
 * fp16-rounded scale and minimum so that decoding is within half a step of the value.
 */
public final class LowBitRows {
    private final int width;
    private final int bits;
    private final int groupSize;
    private final int groups;
    private final int maxCode;

    public LowBitRows(int width, int bits, int groupSize) {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("bits " + bits + " is not supported; allowed values are 2, 3, 4, 8");
        }
        if (width < 1 || groupSize < 1) {
            throw new IllegalArgumentException("width " + width + " and group size " + groupSize + " must be at least 1");
        }
        this.width = width;
        this.bits = bits;
        this.groupSize = groupSize;
        this.groups = (width + groupSize - 1) / groupSize;
        this.maxCode = (1 << bits) - 1;
    }

    public int width() {
        return width;
    }

    public int bits() {
        return bits;
    }

    public int groupSize() {
        return groupSize;
    }

    public int bytesPerRow() {
        return groups * 4 + (width * bits + 7) / 8;
    }

    public void encode(float[] src, int srcOff, byte[] dst, int dstOff) {
        int codes = dstOff + groups * 4;
        java.util.Arrays.fill(dst, codes, dstOff + bytesPerRow(), (byte) 0);
        for (int g = 0; g < groups; g++) {
            int from = g * groupSize;
            int to = Math.min(width, from + groupSize);
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = from; i < to; i++) {
                min = Math.min(min, src[srcOff + i]);
                max = Math.max(max, src[srcOff + i]);
            }
            short minHalf = Float.floatToFloat16(min);
            short scaleHalf = Float.floatToFloat16((max - min) / maxCode);
            putShort(dst, dstOff + 4 * g, scaleHalf);
            putShort(dst, dstOff + 4 * g + 2, minHalf);
            float storedMin = Float.float16ToFloat(minHalf);
            float scale = Float.float16ToFloat(scaleHalf);
            float inverse = scale == 0f ? 0f : 1f / scale;
            for (int i = from; i < to; i++) {
                int code = Math.clamp(Math.round((src[srcOff + i] - storedMin) * inverse), 0, maxCode);
                long bit = (long) i * bits;
                int at = codes + (int) (bit >>> 3);
                int shifted = code << (int) (bit & 7);
                dst[at] |= (byte) shifted;
                if ((bit & 7) + bits > 8) {
                    dst[at + 1] |= (byte) (shifted >>> 8);
                }
            }
        }
    }

    public void decode(byte[] src, int srcOff, float[] dst, int dstOff) {
        int codes = srcOff + groups * 4;
        for (int g = 0; g < groups; g++) {
            float scale = Float.float16ToFloat(getShort(src, srcOff + 4 * g));
            float min = Float.float16ToFloat(getShort(src, srcOff + 4 * g + 2));
            int from = g * groupSize;
            int to = Math.min(width, from + groupSize);
            switch (bits) {
                case 8 -> {
                    for (int i = from; i < to; i++) {
                        dst[dstOff + i] = Math.fma(src[codes + i] & 0xFF, scale, min);
                    }
                }
                case 4 -> {
                    for (int i = from; i < to; i++) {
                        int code = (src[codes + (i >>> 1)] >>> ((i & 1) << 2)) & 0xF;
                        dst[dstOff + i] = Math.fma(code, scale, min);
                    }
                }
                case 2 -> {
                    for (int i = from; i < to; i++) {
                        int code = (src[codes + (i >>> 2)] >>> ((i & 3) << 1)) & 0x3;
                        dst[dstOff + i] = Math.fma(code, scale, min);
                    }
                }
                default -> {
                    for (int i = from; i < to; i++) {
                        int bit = i * bits;
                        int at = codes + (bit >>> 3);
                        int word = (src[at] & 0xFF) | (at + 1 < srcOff + bytesPerRow() ? (src[at + 1] & 0xFF) << 8 : 0);
                        dst[dstOff + i] = Math.fma((word >>> (bit & 7)) & maxCode, scale, min);
                    }
                }
            }
        }
    }

    private static void putShort(byte[] b, int at, short v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }

    private static short getShort(byte[] b, int at) {
        return (short) ((b[at] & 0xFF) | (b[at + 1] << 8));
    }
}
