package io.kvcache.core.tensor;

/**
 * The 12 bytes of 6-bit scales and mins of a Q4_K or Q5_K super-block (ggml's get_scale_min_k4),
 * unpacked into one byte per sub-block: {@code (int) (packed >>> 8*j) & 0xFF} is the value of
 * sub-block j. The bytes are read as three little-endian ints: {@code a} = bytes 0..3,
 * {@code b} = 4..7, {@code c} = 8..11. For sub-block j < 4, byte j holds the scale and byte j+4
 * the min in their low 6 bits; for j >= 4, byte j+4 holds the low 4 bits of the scale (low nibble)
 * and of the min (high nibble), and the top 2 bits of bytes j-4 and j hold their high 2 bits.
 */
final class KScales {
    private KScales() {
    }

    static long scales(int a, int b, int c) {
        int first = a & 0x3F3F3F3F;
        int second = (c & 0x0F0F0F0F) | ((a >>> 2) & 0x30303030);
        return (first & 0xFFFFFFFFL) | (long) second << 32;
    }

    static long mins(int a, int b, int c) {
        int first = b & 0x3F3F3F3F;
        int second = ((c >>> 4) & 0x0F0F0F0F) | ((b >>> 2) & 0x30303030);
        return (first & 0xFFFFFFFFL) | (long) second << 32;
    }

    /** The value of sub-block j in an unpacked long. */
    static int get(long packed, int j) {
        return (int) (packed >>> (8 * j)) & 0xFF;
    }
}
