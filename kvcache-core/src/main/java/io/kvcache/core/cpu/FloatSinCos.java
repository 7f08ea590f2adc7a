package io.kvcache.core.cpu;

import java.math.BigInteger;

/**
 * Single-precision sine and cosine computed the way glibc's {@code sinf}/{@code cosf} compute them
 * on x86-64 CPUs with FMA (the library llama.cpp's RoPE tables come from on Linux). Those are not
 * correctly rounded: about 1% of the RoPE angles of a long prompt come out one ulp away from
 * {@code (float) Math.cos(angle)}, and the random-weight reference models turn that ulp into
 * visible probability differences. The algorithm, in double precision:
 * <ul>
 *   <li>reduce the argument to r in [-pi/4, pi/4] and a quadrant n: for |x| &lt; 120 by one
 *       fused multiply-subtract with pi/2 (n = round(x * 2/pi), computed in 2^24 fixed point),
 *       above by a 64-bit fixed-point product with the bits of 2/pi;</li>
 *   <li>evaluate an odd degree-7 polynomial (sine) or an even degree-8 polynomial (cosine) of r,
 *       chosen and signed by the quadrant, each addition of a product fused.</li>
 * </ul>
 * The polynomial coefficients and the reduction constants are the library's (numbers, checked
 * value by value against the platform's libm over every float in the range RoPE uses).
 */
final class FloatSinCos {
    private FloatSinCos() {
    }

    private static final double HALF_PI = 0x1.921FB54442D18p0;
    /** 2/pi scaled by 2^24, so that the quadrant lands in bits 24 and up of an int. */
    private static final double SCALED_INVERSE_HALF_PI = 0x1.45F306DC9C883p+23;
    /** pi/2 * 2^-62: the unit of the 62-bit fixed-point remainder of the large reduction. */
    private static final double FIXED_POINT_HALF_PI = 0x1.921FB54442D18p-62;
    private static final double[] QUADRANT_SIGN = {1.0, -1.0, -1.0, 1.0};

    /** Cosine coefficients c0..c4 and sine coefficients s1..s3 for quadrants 0 and 1. */
    private static final Polynomials LOW_QUADRANTS = new Polynomials(
            0x1p0, -0x1.ffffffd0c621cp-2, 0x1.55553e1068f19p-5, -0x1.6c087e89a359dp-10, 0x1.99343027bf8c3p-16,
            -0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13);
    /** The cosine negated (a shift by pi), for quadrants 2 and 3; the sign table handles the sine. */
    private static final Polynomials HIGH_QUADRANTS = new Polynomials(
            -0x1p0, 0x1.ffffffd0c621cp-2, -0x1.55553e1068f19p-5, 0x1.6c087e89a359dp-10, -0x1.99343027bf8c3p-16,
            -0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13);

    /**
     * Words of 2/pi for the large reduction: word k holds bits [8k-24, 8k+8) after the binary point
     * (zeros before it), so a float's exponent picks three words 32 bits apart.
     */
    private static final long[] TWO_OVER_PI_WORDS = twoOverPiWords();

    private static long[] twoOverPiWords() {
        // 2/pi to 192 bits after the binary point.
        BigInteger bits = new BigInteger("a2f9836e4e441529fc2757d1f534ddc0db6295993c439041", 16);
        long[] words = new long[24];
        for (int k = 0; k < words.length; k++) {
            words[k] = bits.shiftRight(192 - (8 * k + 8)).longValue() & 0xffffffffL;
        }
        return words;
    }

    private record Polynomials(double c0, double c1, double c2, double c3, double c4,
                               double s1, double s2, double s3) {
    }

    private static final int PI_OVER_4_TOP12 = top12(0x1.921FB6p-1f);
    private static final int TINY_TOP12 = top12(0x1p-12f);
    private static final int FAST_REDUCTION_TOP12 = top12(120.0f);
    private static final int INFINITY_TOP12 = top12(Float.POSITIVE_INFINITY);

    /** Exponent and top mantissa bits of |x|: the library compares magnitudes this coarsely. */
    private static int top12(float x) {
        return (Float.floatToRawIntBits(x) >>> 20) & 0x7ff;
    }

    static float sin(float y) {
        return evaluate(y, false);
    }

    static float cos(float y) {
        return evaluate(y, true);
    }

    private static float evaluate(float y, boolean cosine) {
        int top = top12(y);
        double x = y;
        if (top < PI_OVER_4_TOP12) {
            if (top < TINY_TOP12) {
                return cosine ? 1.0f : y;
            }
            return polynomial(x, x * x, LOW_QUADRANTS, cosine ? 1 : 0);
        }
        if (top >= INFINITY_TOP12) {
            return y - y; // NaN for an infinity or a NaN
        }
        // The quadrant picks the polynomial; signQuadrant its sign and coefficient set (they differ
        // only for negative arguments past the fast range, reduced by magnitude).
        int quadrant;
        int signQuadrant;
        double r;
        if (top < FAST_REDUCTION_TOP12) {
            quadrant = ((int) (x * SCALED_INVERSE_HALF_PI) + 0x800000) >> 24;
            signQuadrant = quadrant;
            r = Math.fma(-(double) quadrant, HALF_PI, x);
        } else {
            int bits = Float.floatToRawIntBits(y);
            long fraction = quarterTurns(bits);
            long turns = (fraction + (1L << 61)) >>> 62;
            quadrant = (int) turns;
            signQuadrant = quadrant + (bits >>> 31);
            r = (double) (fraction - (turns << 62)) * FIXED_POINT_HALF_PI;
        }
        Polynomials p = (signQuadrant & 2) != 0 ? HIGH_QUADRANTS : LOW_QUADRANTS;
        return polynomial(r * QUADRANT_SIGN[signQuadrant & 3], r * r, p, cosine ? quadrant ^ 1 : quadrant);
    }

    /** sin (even n) or cos (odd n) of r, from r and r squared. */
    private static float polynomial(double r, double r2, Polynomials p, int n) {
        if ((n & 1) == 0) {
            double r3 = r * r2;
            double s1 = Math.fma(r2, p.s3, p.s2);
            double r7 = r3 * r2;
            double s = Math.fma(r3, p.s1, r);
            return (float) Math.fma(r7, s1, s);
        }
        double r4 = r2 * r2;
        double c2 = Math.fma(r2, p.c4, p.c3);
        double c1 = Math.fma(r2, p.c1, p.c0);
        double r6 = r4 * r2;
        double c = Math.fma(r4, p.c2, c1);
        return (float) Math.fma(r6, c2, c);
    }

    /**
     * |x| * 2/pi modulo 4 for |x| >= 120, in fixed point with 62 fraction bits. Only the 96 bits of
     * 2/pi that matter for the float's exponent take part; the highest product may wrap at 32 bits
     * because its upper part only counts whole turns.
     */
    private static long quarterTurns(int bits) {
        int window = (bits >>> 26) & 15;
        long mantissa = (long) ((bits & 0xffffff) | 0x800000) << ((bits >>> 23) & 7);
        long high = (mantissa * TWO_OVER_PI_WORDS[window]) & 0xffffffffL;
        long middle = mantissa * TWO_OVER_PI_WORDS[window + 4];
        long low = mantissa * TWO_OVER_PI_WORDS[window + 8];
        return ((low >>> 32) | (high << 32)) + middle;
    }
}
