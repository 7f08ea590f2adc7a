package io.kvcache.core.tensor;

/**
 * Scalar re-statements of ggml's activation quantizers, written from their definitions, for tests
 * to check the vectorized ones in {@link Activations} and to build expected dot products.
 */
final class ReferenceQuantizer {
    private ReferenceQuantizer() {
    }

    /** Quantized values q and one scale per block; the value represented is q[i] * d[i / blockSize]. */
    record Quantized(int[] q, float[] d, int blockSize) {
        double value(int i) {
            return (double) q[i] * d[i / blockSize];
        }

        /** The sum of the 16 quants of group g (ggml's bsums). */
        int sum16(int g) {
            int sum = 0;
            for (int i = 16 * g; i < 16 * g + 16; i++) {
                sum += q[i];
            }
            return sum;
        }
    }

    /** x86 quantize_row_q8_0: d = fp16(amax/127), q = round-half-even(x * (127/amax)). */
    static Quantized q8_0(float[] x, int from, int n) {
        int[] q = new int[n];
        float[] d = new float[n / 32];
        for (int b = 0; b < n / 32; b++) {
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[from + 32 * b + i]));
            }
            float id = amax == 0 ? 0 : 127f / amax;
            for (int i = 0; i < 32; i++) {
                q[32 * b + i] = (int) Math.rint(x[from + 32 * b + i] * id);
            }
            d[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
        }
        return new Quantized(q, d, 32);
    }

    /** quantize_row_q8_K_ref: scale from the first value of largest magnitude, q = min(127, rint(-127/max * x)). */
    static Quantized q8K(float[] x, int from, int n) {
        return q8K(x, from, n, false);
    }

    /**
     * With {@code grouped}, x86 ggml_quantize_mat_q8_K_4x8 instead (the rows the repacked GEMM takes
     * four at a time): the same but for the sign, -127/amax whenever some value equals +amax.
     */
    static Quantized q8K(float[] x, int from, int n, boolean grouped) {
        int[] q = new int[n];
        float[] d = new float[n / 256];
        for (int b = 0; b < n / 256; b++) {
            float amax = 0;
            float max = 0;
            for (int i = 0; i < 256; i++) {
                float v = x[from + 256 * b + i];
                if (Math.abs(v) > amax) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            if (amax == 0) {
                continue;
            }
            for (int i = 0; i < 256 && grouped; i++) {
                if (x[from + 256 * b + i] == amax) {
                    max = amax;
                }
            }
            float iscale = -127f / max;
            for (int i = 0; i < 256; i++) {
                q[256 * b + i] = Math.min(127, (int) Math.rint(iscale * x[from + 256 * b + i]));
            }
            d[b] = 1 / iscale;
        }
        return new Quantized(q, d, 256);
    }

    /** The activation a weight type's dot product sees for x[from .. from+n), as doubles. */
    static double[] activation(GgmlType type, float[] x, int from, int n) {
        double[] out = new double[n];
        Quantized quantized = switch (type) {
            case Q8_0, Q4_0 -> q8_0(x, from, n);
            case Q4_K, Q5_K, Q6_K -> q8K(x, from, n);
            default -> null;
        };
        for (int i = 0; i < n; i++) {
            float v = x[from + i];
            out[i] = switch (type) {
                case F32 -> v;
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
                case BF16 -> Float.intBitsToFloat((Float.floatToRawIntBits(v) + 0x7FFF
                        + ((Float.floatToRawIntBits(v) >>> 16) & 1)) & 0xFFFF0000);
                default -> quantized.value(i);
            };
        }
        return out;
    }
}
