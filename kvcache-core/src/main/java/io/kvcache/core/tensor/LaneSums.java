package io.kvcache.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sums of the lanes of a float vector in one fixed order. {@code reduceLanes(ADD)} leaves the order
 * open, and the JDK's interpreted and compiled forms of it do differ, so the same input could give
 * different logits before and after the JIT compiled a kernel. Here the upper half of the lanes is
 * added to the lower half until one lane is left: for 16 lanes the order of the AVX-512 reduction
 * llama.cpp's kernels end with (8+8, 4+4, 2+2, 1+1).
 */
public final class LaneSums {
    private LaneSums() {
    }

    /** Shuffles that move the upper half of the live lanes onto the lower half, one per halving step. */
    public static VectorShuffle<Float>[] halvings(VectorSpecies<Float> species) {
        int steps = Integer.numberOfTrailingZeros(species.length());
        @SuppressWarnings("unchecked")
        VectorShuffle<Float>[] shuffles = new VectorShuffle[steps];
        for (int s = 0; s < steps; s++) {
            int half = species.length() >> (s + 1);
            shuffles[s] = VectorShuffle.fromOp(species, i -> (i + half) % species.length());
        }
        return shuffles;
    }

    /** The lanes of {@code v} summed by halving; {@code halvings} must come from {@link #halvings} for v's species. */
    public static float sum(FloatVector v, VectorShuffle<Float>[] halvings) {
        for (VectorShuffle<Float> shuffle : halvings) {
            v = v.add(v.rearrange(shuffle));
        }
        return v.lane(0);
    }

    /** Same as {@link #sum(FloatVector, VectorShuffle[])} for a 128, 256 or 512-bit vector. */
    public static float sum(FloatVector v) {
        return sum(v, switch (v.length()) {
            case 4 -> Shapes.S128;
            case 8 -> Shapes.S256;
            case 16 -> Shapes.S512;
            default -> throw new IllegalArgumentException("no lane order defined for " + v.species());
        });
    }

    /** Shuffles per vector size, built on first use. */
    private static final class Shapes {
        static final VectorShuffle<Float>[] S128 = halvings(FloatVector.SPECIES_128);
        static final VectorShuffle<Float>[] S256 = halvings(FloatVector.SPECIES_256);
        static final VectorShuffle<Float>[] S512 = halvings(FloatVector.SPECIES_512);
    }
}
