package io.kvcache.core.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The vector species every kernel uses, as constants (C2 only generates vector code for species it
 * can see as constants). {@link #F} has {@link #L} float lanes, 8 (AVX2) or 16 (AVX-512); the byte,
 * short and int species have the same lane count so that one load of packed weights converts to one
 * float vector. Kernels step through 16-value groups, which both lane counts divide.
 */
final class Lanes {
    static final VectorSpecies<Float> F = pickFloatSpecies();
    static final int L = F.length();
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 8));
    static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Integer> I = IntVector.SPECIES_64.withShape(F.vectorShape());

    /**
     * Eight float lanes: an AVX2 register, or half of an AVX-512 one. Kernels that reproduce ggml's
     * summation order accumulate in these (two of them stand for one 16-lane register) so that the
     * lanes, and therefore the roundings, are the same whatever width the hardware offers.
     */
    static final VectorSpecies<Float> H = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> HI = IntVector.SPECIES_256;
    static final VectorSpecies<Short> HS = ShortVector.SPECIES_128;
    static final VectorSpecies<Byte> HB = ByteVector.SPECIES_64;

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private Lanes() {
    }

    /** 256 or 512 bits: narrower hardware (128-bit NEON/SSE) still computes correctly, only slowly. */
    private static VectorSpecies<Float> pickFloatSpecies() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return bits >= 512 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    }
}
