package io.kvcache.core.kv;

import java.util.Objects;

/**
 * A low-bit row format and its codec, for rows of one width: each key or value row is quantized on
 * its own, with a header per group of {@code groupSize} consecutive values (the last group is
 * shorter when groupSize does not divide the width). Two headers:
 * <ul>
 * <li>asymmetric (the mixed-precision cache's low tier): a scale and a minimum, the codes spanning
 *     [min, max] of the group; a value decodes to {@code min + code * scale};</li>
 * <li>symmetric (the {@code kv-type} rows): a scale alone, the codes spanning [-absmax, absmax]
 *     with no level at zero (mid-rise, as llama.cpp's q4_0 blocks); a value decodes to
 *     {@code (code - levels/2) * scale}, levels = 2^bits - 1. Half the header of the asymmetric
 *     one, which is what dominates narrow heads (4 of 8 bytes of a 4-bit row of 8 values); the
 *     rotated keys are centred, so the range it gives up is small. Its scale is fp16 or, with
 *     {@code scaleBits} 8, one byte: bits 14..7 of the fp16 scale (exponent and the 3 highest
 *     mantissa bits, {@link KvScale#E5M3}). The scale is fitted: of the one whose levels reach
 *     absmax and a few smaller ones, the one that reconstructs the group with the least squared
 *     error, so a lone large value may be clipped for a finer step for all the others.</li>
 * </ul>
 *
 * <p>An encoded row is {@link #bytesPerRow()} bytes: first, group after group, the scale (and, when
 * asymmetric, then the minimum) as little-endian fp16, or the scale's one byte; then the codes of
 * the whole row as one dense little-endian bit stream, {@code bits} bits each (code i holds stream
 * bits [i*bits, (i+1)*bits), stream bit k is bit k%8 of byte k/8), so 3-bit codes cross byte
 * boundaries. Unused bits of the last byte are zero.
 *
 * <p>Instances hold no mutable state and may be shared between threads.
 */
public final class LowBitRows {
    /** Steps of 2.5% below the covering scale that {@link #fittedScale} tries: down to 70% of it. */
    private static final int FIT_STEPS = 12;

    private final int width;
    private final boolean symmetric;
    /** Bytes of one group's header: the scale's (1 or 2) when symmetric, 4 (scale, minimum) otherwise. */
    private final int headerBytes;
    /** Bits of a stored scale: 16 (fp16) or 8 (e5m3, symmetric only). */
    private final int scaleBits;
    private final int bits;
    private final int groupSize;
    private final int groups;
    private final int levels;
    private final int bytesPerRow;

    /** The asymmetric format (scale and minimum per group). */
    public LowBitRows(int width, int bits, int groupSize) {
        this(width, bits, groupSize, false);
    }

    /** A format with fp16 scales. */
    public LowBitRows(int width, int bits, int groupSize, boolean symmetric) {
        this(width, bits, groupSize, symmetric, 16);
    }

    /** @param scaleBits 16 (fp16 scales) or 8 (e5m3 scales, symmetric rows only) */
    public LowBitRows(int width, int bits, int groupSize, boolean symmetric, int scaleBits) {
        if (width < 1) {
            throw new IllegalArgumentException("width must be at least 1, got " + width);
        }
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("bits must be 2, 3, 4 or 8, got " + bits);
        }
        if (groupSize < 1) {
            throw new IllegalArgumentException("groupSize must be at least 1, got " + groupSize);
        }
        if (scaleBits != 16 && (scaleBits != 8 || !symmetric)) {
            throw new IllegalArgumentException("scales are 16 bits, or 8 in symmetric rows; got " + scaleBits
                    + (symmetric ? "" : " in asymmetric rows"));
        }
        this.width = width;
        this.symmetric = symmetric;
        this.scaleBits = scaleBits;
        this.headerBytes = symmetric ? scaleBits / 8 : 2 * Short.BYTES;
        this.bits = bits;
        this.groupSize = groupSize;
        this.groups = (width - 1) / groupSize + 1;
        this.levels = (1 << bits) - 1;
        this.bytesPerRow = Math.toIntExact((long) groups * headerBytes + ((long) width * bits + 7) / 8);
    }

    /**
     * Encodes src[srcOff, srcOff+width) into dst[dstOff, dstOff+bytesPerRow). Asymmetric: the
     * stored scale and minimum are chosen in fp16 so that they still cover the group (minimum
     * rounded down, scale rounded up), and the codes are computed from those stored values, so
     * every value decodes to within half a stored scale of itself. Symmetric: the scale is
     * {@link #fittedScale fitted}, its squared error at most that of the covering scale (the
     * smallest stored one, fp16 or e5m3, whose levels/2 steps reach the absolute maximum).
     *
     * @throws IllegalArgumentException if the row holds a non-finite value, or a group whose
     *                                  minimum or scale is beyond fp16's range
     */
    public void encode(float[] src, int srcOff, byte[] dst, int dstOff) {
        Objects.checkFromIndexSize(srcOff, width, src.length);
        Objects.checkFromIndexSize(dstOff, bytesPerRow, dst.length);
        int out = dstOff + groups * headerBytes;
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
            short scaleHalf;
            if (symmetric) {
                float absMax = Math.max(-min, max);
                scaleHalf = absMax == 0 ? 0 : fittedScale(src, srcOff + lo, hi - lo, symmetricScale(absMax));
                minBits = 0; // unused: the minimum follows from the scale
            } else if (min == max) {
                // A constant group: every code is 0 and decodes to the nearest fp16 of the value.
                minBits = Float.floatToFloat16(min);
                scaleHalf = 0;
            } else {
                minBits = floorHalf(min);
                scaleHalf = coveringScale(Float.float16ToFloat(minBits), max);
            }
            float storedScale = Float.float16ToFloat(scaleHalf);
            float storedMin = symmetric ? symmetricMin(storedScale) : Float.float16ToFloat(minBits);
            if (!Float.isFinite(storedMin) || !Float.isFinite(storedScale)) {
                throw new IllegalArgumentException("group " + g + " spans [" + min + ", " + max + "], beyond fp16's range");
            }
            int header = dstOff + g * headerBytes;
            if (scaleBits == 8) {
                dst[header] = (byte) (scaleHalf >> 7);
            } else {
                putHalf(dst, header, scaleHalf);
            }
            if (!symmetric) {
                putHalf(dst, header + 2, minBits);
            }
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

    /** Decodes src[srcOff, srcOff+bytesPerRow) into dst[dstOff, dstOff+width). */
    public void decode(byte[] src, int srcOff, float[] dst, int dstOff) {
        Objects.checkFromIndexSize(srcOff, bytesPerRow, src.length);
        Objects.checkFromIndexSize(dstOff, width, dst.length);
        int codes = srcOff + groups * headerBytes;
        for (int g = 0, lo = 0; g < groups; g++, lo += groupSize) {
            int header = srcOff + g * headerBytes;
            float scale = storedScale(src, header);
            float min = symmetric ? symmetricMin(scale) : Float.float16ToFloat(getHalf(src, header + 2));
            PackedCodes.decode(bits, src, codes, lo, Math.min(lo + groupSize, width), scale, min, dst, dstOff);
        }
    }

    /** Groups per row (the last may be shorter). */
    int groups() {
        return groups;
    }

    /** Where a row's code stream starts, in bytes from the row's start: after every group's header. */
    int codesOffset() {
        return groups * headerBytes;
    }

    /** The stored scale of group {@code g} of the row at {@code src[row]}. */
    float scale(byte[] src, int row, int g) {
        return storedScale(src, row + g * headerBytes);
    }

    /** The scale stored at {@code src[at]}: fp16, or an e5m3 byte as the fp16 of the same upper bits. */
    private float storedScale(byte[] src, int at) {
        return Float.float16ToFloat(scaleBits == 8 ? (short) ((src[at] & 0xFF) << 7) : getHalf(src, at));
    }

    /** The stored minimum of group {@code g} of the row at {@code src[row]}: its lowest level. */
    float minimum(byte[] src, int row, int g) {
        return symmetric ? symmetricMin(scale(src, row, g)) : Float.float16ToFloat(getHalf(src, row + g * headerBytes + 2));
    }

    /** The smallest fp16 scale with min + levels*scale >= max in float arithmetic, as decoding computes it. */
    private short coveringScale(float min, float max) {
        short scale = ceilHalf((float) (((double) max - min) / levels));
        while (Float.isFinite(Float.float16ToFloat(scale)) && min + levels * Float.float16ToFloat(scale) < max) {
            scale++; // positive fp16 bit patterns order like their values
        }
        return scale;
    }

    /**
     * The lowest level of a symmetric group, -(levels/2)*scale: exact in float (levels has at most
     * 8 bits, an fp16 scale 11), so encoding and decoding agree on it.
     */
    private float symmetricMin(float scale) {
        return -(levels * scale) / 2;
    }

    /**
     * The smallest stored scale (fp16, or e5m3 as an fp16 whose 7 lowest bits are zero) whose
     * levels/2 steps reach absMax on both sides, in float arithmetic as decoding computes it.
     */
    private short symmetricScale(float absMax) {
        int step = scaleBits == 8 ? 1 << 7 : 1;
        int scale = ceilHalf((float) (2.0 * absMax / levels));
        // round up to a multiple of the step: positive fp16 bit patterns order like their values
        scale = (scale + step - 1) / step * step;
        while (Float.isFinite(Float.float16ToFloat((short) scale)) && symmetricMin(Float.float16ToFloat((short) scale)) > -absMax) {
            scale += step;
        }
        return (short) Math.min(scale, 0x7C00); // at most +infinity, which encoding refuses
    }

    /**
     * Of the covering scale and the stored scales at 97.5%, 95%, ..., 70% of it (each rounded up to
     * the stored format), the one whose codes reconstruct src[off, off+n) with the least squared
     * error, the larger one on a tie: clipping the largest value a little buys a finer step for all
     * the others.
     */
    private short fittedScale(float[] src, int off, int n, short covering) {
        float cover = Float.float16ToFloat(covering);
        if (!Float.isFinite(cover)) {
            return covering; // refused by the caller
        }
        short best = covering;
        double bestError = squaredError(src, off, n, cover);
        int step = scaleBits == 8 ? 1 << 7 : 1;
        for (int k = 1; k <= FIT_STEPS; k++) {
            int candidate = ceilHalf(cover * (1 - 0.025f * k));
            candidate = (candidate + step - 1) / step * step;
            if (candidate >= best || candidate == 0) {
                continue;
            }
            double error = squaredError(src, off, n, Float.float16ToFloat((short) candidate));
            if (error < bestError) {
                best = (short) candidate;
                bestError = error;
            }
        }
        return best;
    }

    /** Squared error of src[off, off+n) coded with symmetric scale {@code scale}, as encode codes it. */
    private double squaredError(float[] src, int off, int n, float scale) {
        float min = symmetricMin(scale);
        double sum = 0;
        for (int i = off; i < off + n; i++) {
            float decoded = min + Math.clamp(Math.round((src[i] - min) / scale), 0, levels) * scale;
            sum += (double) (decoded - src[i]) * (decoded - src[i]);
        }
        return sum;
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

    /** Encoded bytes of one row: 1 or 2 (symmetric, by the scale's bits) or 4 per group plus the packed codes, rounded up to whole bytes. */
    public int bytesPerRow() {
        return bytesPerRow;
    }

    public boolean symmetric() {
        return symmetric;
    }

    public int bits() {
        return bits;
    }

    /** Bits of one stored scale: 16, or 8 (e5m3). */
    public int scaleBits() {
        return scaleBits;
    }

    public int groupSize() {
        return groupSize;
    }

    public int width() {
        return width;
    }
}
