package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * Sums of the lanes of a float vector in one fixed order. {@code reduceLanes(ADD)} leaves the order
 * open, and the JDK's interpreted and compiled forms of it do differ, so the same input could give
 * different logits before and after the JIT compiled a kernel. Here the upper half of the lanes is
 * added to the lower half until one lane is left: for 8 lanes the order of ggml's hsum_float_8, for
 * 16 that of the AVX-512 reduction (8+8, 4+4, 2+2, 1+1). Each size is written out with constant
 * shuffles, which the JIT turns into permutes; a loop over shuffles would not be compiled to them.
 */
public final class LaneSums {
    private static final VectorShuffle<Float> S512_8 = halving(FloatVector.SPECIES_512.length(), 8);
    private static final VectorShuffle<Float> S512_4 = halving(FloatVector.SPECIES_512.length(), 4);
    private static final VectorShuffle<Float> S512_2 = halving(FloatVector.SPECIES_512.length(), 2);
    private static final VectorShuffle<Float> S512_1 = halving(FloatVector.SPECIES_512.length(), 1);
    static final VectorShuffle<Float> S256_4 = halving(FloatVector.SPECIES_256.length(), 4);
    static final VectorShuffle<Float> S256_2 = halving(FloatVector.SPECIES_256.length(), 2);
    static final VectorShuffle<Float> S256_1 = halving(FloatVector.SPECIES_256.length(), 1);
    private static final VectorShuffle<Float> S128_2 = halving(FloatVector.SPECIES_128.length(), 2);
    private static final VectorShuffle<Float> S128_1 = halving(FloatVector.SPECIES_128.length(), 1);

    private LaneSums() {
    }

    private static VectorShuffle<Float> halving(int lanes, int half) {
        var species = lanes == 16 ? FloatVector.SPECIES_512 : lanes == 8 ? FloatVector.SPECIES_256 : FloatVector.SPECIES_128;
        return VectorShuffle.fromOp(species, i -> (i + half) % lanes);
    }

    /** The lanes of a 128, 256 or 512-bit vector summed by halving. */
    public static float sum(FloatVector v) {
        return switch (v.length()) {
            case 16 -> sum16(v);
            case 8 -> sum8(v);
            case 4 -> sum4(v);
            default -> throw new IllegalArgumentException("no lane order defined for " + v.species());
        };
    }

    private static float sum16(FloatVector v) {
        v = v.add(v.rearrange(S512_8));
        v = v.add(v.rearrange(S512_4));
        v = v.add(v.rearrange(S512_2));
        return v.add(v.rearrange(S512_1)).lane(0);
    }

    /** _mm512_reduce_add_ps of the 16-lane register whose lanes 0-7 are {@code lo} and 8-15 {@code hi}. */
    static float sum16(FloatVector lo, FloatVector hi) {
        return sum8(lo.add(hi));
    }

    /** hsum_float_8: lanes i and i+4, then i and i+2, then the last pair. */
    static float sum8(FloatVector v) {
        v = v.add(v.rearrange(S256_4));
        v = v.add(v.rearrange(S256_2));
        return v.add(v.rearrange(S256_1)).lane(0);
    }

    private static float sum4(FloatVector v) {
        v = v.add(v.rearrange(S128_2));
        return v.add(v.rearrange(S128_1)).lane(0);
    }
}
