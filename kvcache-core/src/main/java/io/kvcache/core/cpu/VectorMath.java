package io.kvcache.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Float kernels of the forward pass, on the Vector API where they are hot. */
final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {
    }

    /** y[i] += x[i] over n elements. */
    static void add(float[] x, float[] y, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, y, i).add(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] += x[i];
        }
    }

    /** x[i] *= factor over n elements (nothing to do for 1, which leaves every value as it is). */
    static void scale(float[] x, int n, float factor) {
        scale(x, 0, n, factor);
    }

    /** x[off + i] *= factor over n elements, as ggml_scale computes it. */
    static void scale(float[] x, int off, int n, float factor) {
        if (factor == 1f) {
            return;
        }
        for (int i = off; i < off + n; i++) {
            x[i] *= factor;
        }
    }

    /**
     * gate = gelu(gate) * up over n elements, as ggml_vec_geglu_f32 computes it: GELU's tanh
     * approximation looked up by the fp16 rounding of the input in a table of fp16 results, 0
     * below -10 and the input itself above 10.
     */
    static void geglu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float x = gate[i];
            if (x <= -10f) {
                gate[i] = 0f;
            } else if (x >= 10f) {
                gate[i] = x * up[i];
            } else {
                gate[i] = GeluTable.VALUES[Float.floatToFloat16(x) & 0xffff] * up[i];
            }
        }
    }

    /** x = gelu(x) over n elements from off, as ggml_vec_gelu_f32 computes it (the table and bounds of {@link #geglu}). */
    static void gelu(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            if (v <= -10f) {
                x[i] = 0f;
            } else if (v < 10f) {
                x[i] = GeluTable.VALUES[Float.floatToFloat16(v) & 0xffff];
            }
        }
    }

    /** GELU of every fp16 value, rounded to fp16, indexed by its bits (ggml's table). */
    private static final class GeluTable {
        private static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;
        private static final float COEF_A = 0.044715f;
        static final float[] VALUES = new float[1 << 16];

        static {
            for (int bits = 0; bits < VALUES.length; bits++) {
                float x = Float.float16ToFloat((short) bits);
                float gelu = 0.5f * x * (1f + (float) Math.tanh(SQRT_2_OVER_PI * x * (1f + COEF_A * x * x)));
                VALUES[bits] = Float.float16ToFloat(Float.floatToFloat16(gelu));
            }
        }
    }

    /**
     * out = x / rms(x) * gain over one row, with the sum of squares in double as llama.cpp does; a
     * null gain is 1 (a norm without weights).
     */
    static void rmsNorm(float[] x, int xOff, float[] gain, float eps, float[] out, int outOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = gain == null ? x[xOff + i] * scale : x[xOff + i] * scale * gain[i];
        }
    }

    /**
     * gate = silu(gate) * up over {@code rows} rows of {@code n}, as ggml_vec_swiglu_f32 computes it
     * on AVX-512: each row's whole 16-float groups take exp from {@link #expAvx512}, the rest from a
     * correctly rounded expf. The exp matters to the last bit because the product is rounded again
     * (to int8 or fp16) as the input of the down projection.
     */
    static void swiglu(float[] gate, float[] up, int rows, int n) {
        int simd = n - n % 16;
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int r = 0; r < rows; r++) {
            int row = r * n;
            int i = 0;
            for (; i < simd; i += F.length()) { // F has 8 or 16 lanes: whole 16-float groups either way
                FloatVector g = FloatVector.fromArray(F, gate, row + i);
                FloatVector silu = g.div(one.add(expAvx512(g.neg())));
                silu.mul(FloatVector.fromArray(F, up, row + i)).intoArray(gate, row + i);
            }
            for (; i < n; i++) {
                float g = gate[row + i];
                gate[row + i] = g / (1.0f + (float) Math.exp(-g)) * up[row + i];
            }
        }
    }

    /**
     * ggml_v_expf for AVX-512 (after ARM's optimized-routines expf): n = round(x/ln2) through the
     * 1.5*2^23 shift, b = x - n*ln2 in two fused steps, a degree-5 polynomial j ~ e^b, then
     * scalef(j, n) = j*2^n, which is 0 or infinity once |n| > 192. 2^n is applied as two factors
     * 2^(n/2) so that each is a normal float; the first product is exact and the second rounds once,
     * as scalef does. Not correctly rounded (up to ~1.5 ulp), which is why it is reproduced.
     */
    static FloatVector expAvx512(FloatVector x) {
        FloatVector shift = FloatVector.broadcast(F, 0x1.8p23f);
        FloatVector z = x.fma(FloatVector.broadcast(F, 0x1.715476p+0f), shift);
        FloatVector n = z.sub(shift);
        FloatVector minusN = n.neg();
        FloatVector b = minusN.fma(FloatVector.broadcast(F, 0x1.7f7d1cp-20f), minusN.fma(FloatVector.broadcast(F, 0x1.62e4p-1f), x));
        FloatVector u = b.mul(b);
        FloatVector j = FloatVector.broadcast(F, 0x1.0e4020p-7f).fma(b, FloatVector.broadcast(F, 0x1.573e2ep-5f))
                .fma(u, FloatVector.broadcast(F, 0x1.555e66p-3f).fma(b, FloatVector.broadcast(F, 0x1.fffdb6p-2f)))
                .fma(u, FloatVector.broadcast(F, 0x1.ffffecp-1f).fma(b, FloatVector.broadcast(F, 1f)));
        IntVector e = (IntVector) n.max(-200f).min(200f).convert(VectorOperators.F2I, 0);
        IntVector half = e.lanewise(VectorOperators.ASHR, 1);
        FloatVector p1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector p2 = e.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return j.mul(p1).mul(p2);
    }
}
