package io.kvcache.core.kv;

import java.util.Objects;

/**
 * The low-precision row format of the mixed-precision cache, and its codec, for rows of one width:
 * each key or value row is quantized on its own, asymmetrically, with a scale and a minimum per
 * group of {@code groupSize} consecutive values (the last group is shorter when groupSize does not
 * divide the width).
 *
 * <p>An encoded row is {@link #bytesPerRow()} bytes: first, group after group, the scale and then
 * the minimum as little-endian fp16; then the codes of the whole row as one dense little-endian bit
 * stream, {@code bits} bits each (code i holds stream bits [i*bits, (i+1)*bits), stream bit k is bit
 * k%8 of byte k/8), so 3-bit codes cross byte boundaries. Unused bits of the last byte are zero. A
 * value decodes to {@code min + code * scale}.
 *
 * <p>Instances hold no mutable state and may be shared between threads.
 */
public final class LowBitRows {
    private static final int HEADER_BYTES = 4;

    private final int width;
    private final int bits;
    private final int groupSize;
    private final int groups;
    private final int levels;
    private final int bytesPerRow;

    public LowBitRows(int width, int bits, int groupSize) {
        if (width < 1) {
            throw new IllegalArgumentException("width must be at least 1, got " + width);
        }
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("bits must be 2, 3, 4 or 8, got " + bits);
        }
        if (groupSize < 1) {
            throw new IllegalArgumentException("groupSize must be at least 1, got " + groupSize);
        }
        this.width = width;
        this.bits = bits;
        this.groupSize = groupSize;
        this.groups = (width - 1) / groupSize + 1;
        this.levels = (1 << bits) - 1;
        this.bytesPerRow = Math.toIntExact((long) groups * HEADER_BYTES + ((long) width * bits + 7) / 8);
    }

    /**
     * Encodes src[srcOff, srcOff+width) into dst[dstOff, dstOff+bytesPerRow). The stored scale and
     * minimum are chosen in fp16 so that they still cover the group (minimum rounded down, scale
     * rounded up), and the codes are computed from those stored values: every value then decodes to
     * within half a stored scale of itself.
     *
     * @throws IllegalArgumentException if the row holds a non-finite value, or a group whose
     *                                  minimum or scale is beyond fp16's range
     */
    public void encode(float[] src, int srcOff, byte[] dst, int dstOff) {
        Objects.checkFromIndexSize(srcOff, width, src.length);
        Objects.checkFromIndexSize(dstOff, bytesPerRow, dst.length);
        int out = dstOff + groups * HEADER_BYTES;
        long pending = 0;
        int pendingBits = 0;
        for (int g = 0, lo = 0; g < groups; g++, lo += groupSize) {
            int hi = Math.min(lo + groupSize, width);
            float min = src[srcOff + lo];
            float max = min;
            for (int i = lo + 1; i < hi; i++) {
                min = Math.min(min, src[srcOff + i]);
                max = Math.max(max, src[srcOff + i]);
            }
            if (!Float.isFinite(min) || !Float.isFinite(max)) {
                throw new IllegalArgumentException("row holds a non-finite value in group " + g);
            }
            short minBits;
            short scaleBits;
            if (min == max) {
                // A constant group: every code is 0 and decodes to the nearest fp16 of the value.
                minBits = Float.floatToFloat16(min);
                scaleBits = 0;
            } else {
                minBits = floorHalf(min);
                scaleBits = coveringScale(Float.float16ToFloat(minBits), max);
            }
            float storedMin = Float.float16ToFloat(minBits);
            float storedScale = Float.float16ToFloat(scaleBits);
            if (!Float.isFinite(storedMin) || !Float.isFinite(storedScale)) {
                throw new IllegalArgumentException("group " + g + " spans [" + min + ", " + max + "], beyond fp16's range");
            }
            int header = dstOff + g * HEADER_BYTES;
            putHalf(dst, header, scaleBits);
            putHalf(dst, header + 2, minBits);
            for (int i = lo; i < hi; i++) {
                int code = storedScale == 0 ? 0 : Math.clamp(Math.round((src[srcOff + i] - storedMin) / storedScale), 0, levels);
                pending |= (long) code << pendingBits;
                pendingBits += bits;
                while (pendingBits >= 8) {
                    dst[out++] = (byte) pending;
                    pending >>>= 8;
                    pendingBits -= 8;
                }
            }
        }
        if (pendingBits > 0) {
            dst[out] = (byte) pending;
        }
    }

    /**
     * Decodes src[srcOff, srcOff+bytesPerRow) into dst[dstOff, dstOff+width). Each group unpacks its
     * codes a whole byte (or, for 3 bits, three bytes) at a time; only codes at the group's edges
     * that share a byte with the neighbouring group are read one by one.
     */
    public void decode(byte[] src, int srcOff, float[] dst, int dstOff) {
        Objects.checkFromIndexSize(srcOff, bytesPerRow, src.length);
        Objects.checkFromIndexSize(dstOff, width, dst.length);
        int codes = srcOff + groups * HEADER_BYTES;
        for (int g = 0, lo = 0; g < groups; g++, lo += groupSize) {
            int hi = Math.min(lo + groupSize, width);
            int header = srcOff + g * HEADER_BYTES;
            float scale = Float.float16ToFloat(getHalf(src, header));
            float min = Float.float16ToFloat(getHalf(src, header + 2));
            switch (bits) {
                case 8 -> decode8(src, codes, lo, hi, scale, min, dst, dstOff);
                case 4 -> decode4(src, codes, lo, hi, scale, min, dst, dstOff);
                case 2 -> decode2(src, codes, lo, hi, scale, min, dst, dstOff);
                default -> decode3(src, codes, lo, hi, scale, min, dst, dstOff);
            }
        }
    }

    // The decoders below write value i of the row, for i in [lo, hi), to dst[out + i].

    private static void decode8(byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        for (int i = lo; i < hi; i++) {
            dst[out + i] = min + (src[codes + i] & 0xFF) * scale;
        }
    }

    private void decode4(byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        int i = decodeUntilAligned(src, codes, lo, hi, 2, scale, min, dst, out);
        for (; i + 2 <= hi; i += 2) {
            int b = src[codes + (i >> 1)];
            dst[out + i] = min + (b & 0xF) * scale;
            dst[out + i + 1] = min + (b >> 4 & 0xF) * scale;
        }
        decodeOneByOne(src, codes, i, hi, scale, min, dst, out);
    }

    private void decode2(byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        int i = decodeUntilAligned(src, codes, lo, hi, 4, scale, min, dst, out);
        for (; i + 4 <= hi; i += 4) {
            int b = src[codes + (i >> 2)];
            dst[out + i] = min + (b & 3) * scale;
            dst[out + i + 1] = min + (b >> 2 & 3) * scale;
            dst[out + i + 2] = min + (b >> 4 & 3) * scale;
            dst[out + i + 3] = min + (b >> 6 & 3) * scale;
        }
        decodeOneByOne(src, codes, i, hi, scale, min, dst, out);
    }

    /** Eight 3-bit codes fill three bytes exactly, so the bulk reads 24 bits at a time. */
    private void decode3(byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        int i = decodeUntilAligned(src, codes, lo, hi, 8, scale, min, dst, out);
        for (; i + 8 <= hi; i += 8) {
            int at = codes + (i >> 3) * 3;
            int w = (src[at] & 0xFF) | (src[at + 1] & 0xFF) << 8 | (src[at + 2] & 0xFF) << 16;
            for (int j = 0; j < 8; j++) {
                dst[out + i + j] = min + (w >> 3 * j & 7) * scale;
            }
        }
        decodeOneByOne(src, codes, i, hi, scale, min, dst, out);
    }

    /** Decodes values from lo up to the first index that is a multiple of {@code unit} (or hi); returns that index. */
    private int decodeUntilAligned(byte[] src, int codes, int lo, int hi, int unit, float scale, float min, float[] dst, int out) {
        int aligned = Math.min(hi, (lo + unit - 1) / unit * unit);
        decodeOneByOne(src, codes, lo, aligned, scale, min, dst, out);
        return aligned;
    }

    private void decodeOneByOne(byte[] src, int codes, int from, int to, float scale, float min, float[] dst, int out) {
        for (int i = from; i < to; i++) {
            dst[out + i] = min + code(src, codes, i) * scale;
        }
    }

    /** Code i read straight from the bit stream; it spills into the next byte only for 3 bits. */
    private int code(byte[] src, int codes, int i) {
        int bit = i * bits;
        int at = codes + (bit >> 3);
        int shift = bit & 7;
        int window = src[at] & 0xFF;
        if (shift + bits > 8) {
            window |= (src[at + 1] & 0xFF) << 8;
        }
        return window >> shift & levels;
    }

    /** The smallest fp16 scale with min + levels*scale >= max in float arithmetic, as decoding computes it. */
    private short coveringScale(float min, float max) {
        short scale = ceilHalf((float) (((double) max - min) / levels));
        while (Float.isFinite(Float.float16ToFloat(scale)) && min + levels * Float.float16ToFloat(scale) < max) {
            scale++; // positive fp16 bit patterns order like their values
        }
        return scale;
    }

    /** The largest fp16 value at most x. */
    private static short floorHalf(float x) {
        short h = Float.floatToFloat16(x);
        if (Float.float16ToFloat(h) <= x) {
            return h;
        }
        // h is one step above x: step down, through -0 into the negative subnormals when h is +0.
        if (h == 0) {
            return (short) 0x8001;
        }
        return (short) (h < 0 ? h + 1 : h - 1);
    }

    /** The smallest fp16 value at least x: the negation of the largest at most -x. */
    private static short ceilHalf(float x) {
        return (short) (floorHalf(-x) ^ 0x8000);
    }

    private static void putHalf(byte[] dst, int at, short h) {
        dst[at] = (byte) h;
        dst[at + 1] = (byte) (h >> 8);
    }

    private static short getHalf(byte[] src, int at) {
        return (short) ((src[at] & 0xFF) | src[at + 1] << 8);
    }

    /** Encoded bytes of one row: 4 per group plus the packed codes, rounded up to whole bytes. */
    public int bytesPerRow() {
        return bytesPerRow;
    }

    public int bits() {
        return bits;
    }

    public int groupSize() {
        return groupSize;
    }

    public int width() {
        return width;
    }
}
