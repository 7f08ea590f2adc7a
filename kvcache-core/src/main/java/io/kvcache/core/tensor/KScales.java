package io.kvcache.core.tensor;

/**
 * The 12 bytes of 6-bit scales and mins of a Q4_K or Q5_K super-block (ggml's get_scale_min_k4),
 * read as one little-endian long (bytes 0..7) and int (bytes 8..11). For sub-block j < 4, byte j
 * holds the scale and byte j+4 the min in their low 6 bits; for j >= 4, byte j+4 holds the low 4
 * bits of the scale (low nibble) and of the min (high nibble), and the top 2 bits of bytes j-4 and
 * j hold the high 2 bits of the scale and of the min.
 */
final class KScales {
    private KScales() {
    }

    private static int byteAt(long low, int high, int k) {
        return k < 8 ? (int) (low >>> (8 * k)) & 0xFF : (high >>> (8 * (k - 8))) & 0xFF;
    }

    static int scale(long low, int high, int j) {
        if (j < 4) {
            return byteAt(low, high, j) & 63;
        }
        return (byteAt(low, high, j + 4) & 0xF) | (byteAt(low, high, j - 4) >>> 6) << 4;
    }

    static int min(long low, int high, int j) {
        if (j < 4) {
            return byteAt(low, high, j + 4) & 63;
        }
        return (byteAt(low, high, j + 4) >>> 4) | (byteAt(low, high, j) >>> 6) << 4;
    }
}
