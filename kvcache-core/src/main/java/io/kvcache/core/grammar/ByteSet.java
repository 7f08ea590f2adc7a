package io.kvcache.core.grammar;

import java.util.Arrays;

/** A set of byte values (0 to 255), the terminal a grammar element matches. Immutable once built. */
final class ByteSet {
    private final long[] bits = new long[4];

    static ByteSet range(int lo, int hi) {
        ByteSet s = new ByteSet();
        for (int b = lo; b <= hi; b++) {
            s.bits[b >>> 6] |= 1L << b;
        }
        return s;
    }

    static ByteSet of(int b) {
        return range(b, b);
    }

    ByteSet union(ByteSet other) {
        ByteSet s = new ByteSet();
        for (int i = 0; i < 4; i++) {
            s.bits[i] = bits[i] | other.bits[i];
        }
        return s;
    }

    boolean contains(int b) {
        return (bits[b >>> 6] & 1L << b) != 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ByteSet other && Arrays.equals(bits, other.bits);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bits);
    }
}
