package io.kvcache.core.tensor;

import java.util.Objects;

/**
 * The orthonormal Walsh-Hadamard rotation of a vector, in place, in O(n log n). A quantized key
 * cache stores its keys rotated (and its queries are rotated alike): the rotation keeps every dot
 * product, and spreads a few large channels over all of them, so a group's range is no longer set by
 * its outliers (QuaRot, llama.cpp's rotated KV cache).
 *
 * <p>A width that is not a power of two is split into power-of-two blocks, largest first (its
 * binary digits, e.g. 96 = 64 + 32), each rotated on its own: a block-diagonal matrix of orthonormal
 * blocks is orthonormal, so dot products are kept for every width. The normalized transform is its
 * own inverse.
 */
public final class Hadamard {
    private Hadamard() {
    }

    /** x[off, off+width) := H x[off, off+width), H orthonormal and symmetric. */
    public static void rotate(float[] x, int off, int width) {
        Objects.checkFromIndexSize(off, width, x.length);
        int from = off;
        for (int bit = Integer.highestOneBit(Math.max(width, 1)); bit > 0; bit >>= 1) {
            if ((width & bit) != 0) {
                block(x, from, bit);
                from += bit;
            }
        }
    }

    /** One power-of-two block: the butterflies of the fast transform, then the 1/sqrt(n) that makes it orthonormal. */
    private static void block(float[] x, int off, int n) {
        for (int half = 1; half < n; half <<= 1) {
            for (int i = off; i < off + n; i += half << 1) {
                for (int j = i; j < i + half; j++) {
                    float a = x[j];
                    float b = x[j + half];
                    x[j] = a + b;
                    x[j + half] = a - b;
                }
            }
        }
        if (n > 1) {
            float norm = (float) (1 / Math.sqrt(n));
            for (int i = off; i < off + n; i++) {
                x[i] *= norm;
            }
        }
    }
}
