package io.kvcache.core.kv;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decoding of one quantization group of a {@link LowBitRows} row: codes [lo, hi) of a dense
 * little-endian bit stream to min + code * scale. It runs for every key and value of every
 * low-precision cache entry at every decode step, so codes are unpacked a float vector at a time:
 * the bytes are loaded once, each lane picks its byte (for 3 bits, which cross bytes, a 16-bit
 * window) by a shuffle and its code by a per-lane shift. Scalar loops take the codes that a whole
 * vector does not cover, and those at a group's edges that share a byte with the neighbouring group.
 *
 * <p>code * scale is exact in float (at most 8 bits times fp16's 11), so the vector fma and the
 * scalar min + code * scale round once, the same way: the result does not depend on the path.
 */
final class PackedCodes {
    /** 8 or 16 float lanes; the byte and int species have as many lanes, so one byte load feeds one float vector. */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 8));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_64.withShape(F.vectorShape());
    /** Twice the bytes, as many shorts: a 16-bit window per lane for codes that straddle bytes. */
    private static final VectorSpecies<Byte> B2 = ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 16));

    private static final VectorShuffle<Byte> BYTE_OF_NIBBLE = VectorShuffle.fromOp(B, j -> j / 2);
    private static final ByteVector SHIFT_OF_NIBBLE = ByteVector.zero(B).addIndex(4).and((byte) 4);
    private static final VectorShuffle<Byte> BYTE_OF_CRUMB = VectorShuffle.fromOp(B, j -> j / 4);
    private static final ByteVector SHIFT_OF_CRUMB = ByteVector.zero(B).addIndex(2).and((byte) 6);
    /** Short lane j takes bytes 3j/8 and 3j/8 + 1 (little-endian), and code j sits 3j%8 bits up in it. */
    private static final VectorShuffle<Byte> WINDOW_OF_TRIPLE = VectorShuffle.fromOp(B2, k -> 3 * (k / 2) / 8 + k % 2);
    private static final ShortVector SHIFT_OF_TRIPLE = ShortVector.zero(S).addIndex(3).and((short) 7);

    private PackedCodes() {
    }

    /** dst[out + i] = min + code_i * scale for i in [lo, hi); the stream starts at src[codes]; bits is 2, 3, 4 or 8. */
    static void decode(int bits, byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        switch (bits) {
            case 8 -> decode8(src, codes, lo, hi, scale, min, dst, out);
            case 4 -> decode4(src, codes, lo, hi, scale, min, dst, out);
            case 2 -> decode2(src, codes, lo, hi, scale, min, dst, out);
            default -> decode3(src, codes, lo, hi, scale, min, dst, out);
        }
    }

    private static void decode8(byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        FloatVector s = FloatVector.broadcast(F, scale);
        FloatVector m = FloatVector.broadcast(F, min);
        int i = lo;
        for (; i + L <= hi; i += L) {
            IntVector code = (IntVector) ByteVector.fromArray(B, src, codes + i).convertShape(VectorOperators.B2I, I, 0);
            toFloats(code.and(0xFF), s, m).intoArray(dst, out + i);
        }
        for (; i < hi; i++) {
            dst[out + i] = min + (src[codes + i] & 0xFF) * scale;
        }
    }

    private static void decode4(byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        int i = oneByOne(4, src, codes, lo, Math.min(hi, lo + 1 & ~1), scale, min, dst, out);
        FloatVector s = FloatVector.broadcast(F, scale);
        FloatVector m = FloatVector.broadcast(F, min);
        // The load takes L bytes, twice the L/2 this step decodes: near the end of src the scalar loop finishes.
        for (; i + L <= hi && codes + (i >> 1) + L <= src.length; i += L) {
            ByteVector code = ByteVector.fromArray(B, src, codes + (i >> 1)).rearrange(BYTE_OF_NIBBLE)
                    .lanewise(VectorOperators.LSHR, SHIFT_OF_NIBBLE).and((byte) 0xF);
            toFloats(code, s, m).intoArray(dst, out + i);
        }
        for (; i + 2 <= hi; i += 2) {
            int b = src[codes + (i >> 1)];
            dst[out + i] = min + (b & 0xF) * scale;
            dst[out + i + 1] = min + (b >> 4 & 0xF) * scale;
        }
        oneByOne(4, src, codes, i, hi, scale, min, dst, out);
    }

    private static void decode2(byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        int i = oneByOne(2, src, codes, lo, Math.min(hi, lo + 3 & ~3), scale, min, dst, out);
        FloatVector s = FloatVector.broadcast(F, scale);
        FloatVector m = FloatVector.broadcast(F, min);
        // The load takes L bytes, four times the L/4 this step decodes: near the end of src the scalar loop finishes.
        for (; i + L <= hi && codes + (i >> 2) + L <= src.length; i += L) {
            ByteVector code = ByteVector.fromArray(B, src, codes + (i >> 2)).rearrange(BYTE_OF_CRUMB)
                    .lanewise(VectorOperators.LSHR, SHIFT_OF_CRUMB).and((byte) 3);
            toFloats(code, s, m).intoArray(dst, out + i);
        }
        for (; i + 4 <= hi; i += 4) {
            int b = src[codes + (i >> 2)];
            dst[out + i] = min + (b & 3) * scale;
            dst[out + i + 1] = min + (b >> 2 & 3) * scale;
            dst[out + i + 2] = min + (b >> 4 & 3) * scale;
            dst[out + i + 3] = min + (b >> 6 & 3) * scale;
        }
        oneByOne(2, src, codes, i, hi, scale, min, dst, out);
    }

    /** Eight 3-bit codes fill three bytes exactly, so from a multiple of 8 on, codes start at whole bytes. */
    private static void decode3(byte[] src, int codes, int lo, int hi, float scale, float min, float[] dst, int out) {
        int i = oneByOne(3, src, codes, lo, Math.min(hi, lo + 7 & ~7), scale, min, dst, out);
        FloatVector s = FloatVector.broadcast(F, scale);
        FloatVector m = FloatVector.broadcast(F, min);
        // The load takes 2L bytes for the 3L/8 this step decodes: near the end of src the scalar loop finishes.
        for (; i + L <= hi && codes + (i >> 3) * 3 + 2 * L <= src.length; i += L) {
            ShortVector window = ByteVector.fromArray(B2, src, codes + (i >> 3) * 3).rearrange(WINDOW_OF_TRIPLE).reinterpretAsShorts();
            ShortVector code = window.lanewise(VectorOperators.LSHR, SHIFT_OF_TRIPLE).and((short) 7);
            ((FloatVector) code.convertShape(VectorOperators.S2F, F, 0)).fma(s, m).intoArray(dst, out + i);
        }
        for (; i + 8 <= hi; i += 8) {
            int at = codes + (i >> 3) * 3;
            int w = (src[at] & 0xFF) | (src[at + 1] & 0xFF) << 8 | (src[at + 2] & 0xFF) << 16;
            for (int j = 0; j < 8; j++) {
                dst[out + i + j] = min + (w >> 3 * j & 7) * scale;
            }
        }
        oneByOne(3, src, codes, i, hi, scale, min, dst, out);
    }

    private static FloatVector toFloats(ByteVector code, FloatVector scale, FloatVector min) {
        return ((FloatVector) code.convertShape(VectorOperators.B2F, F, 0)).fma(scale, min);
    }

    private static FloatVector toFloats(IntVector code, FloatVector scale, FloatVector min) {
        return ((FloatVector) code.convert(VectorOperators.I2F, 0)).fma(scale, min);
    }

    /**
     * Codes [from, to) read one by one straight from the bit stream: those at a group's edges that
     * share a byte with the neighbouring group. Returns {@code to}.
     */
    private static int oneByOne(int bits, byte[] src, int codes, int from, int to, float scale, float min, float[] dst, int out) {
        int mask = (1 << bits) - 1;
        for (int i = from; i < to; i++) {
            int bit = i * bits;
            int at = codes + (bit >> 3);
            int shift = bit & 7;
            int window = src[at] & 0xFF;
            if (shift + bits > 8) {
                window |= (src[at + 1] & 0xFF) << 8; // only 3-bit codes spill into the next byte
            }
            dst[out + i] = min + (window >> shift & mask) * scale;
        }
        return to;
    }
}
