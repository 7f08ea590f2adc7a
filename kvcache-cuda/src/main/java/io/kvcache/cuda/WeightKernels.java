package io.kvcache.cuda;

import io.kvcache.core.tensor.GgmlType;
import io.kvcache.core.tensor.UnsupportedTensorTypeException;

import java.util.EnumSet;
import java.util.Set;

/**
 * The kernels of matmul.cu for one weight type: the product with one input row (decode), with a
 * batch (prefill), and the embedding lookup; every type kvcache computes with has them.
 *
 * @param matvec entry of the one-row product
 * @param matmul entry of the batch product
 * @param embed  entry of the row lookup
 */
public record WeightKernels(String matvec, String matmul, String embed) {
    /** The weight types the device computes with, as stored. */
    public static final Set<GgmlType> TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    /** Rows of a batch product that share one decoding of the weights (TILE of matmul.cu's batch kernel). */
    public static final int BATCH_TILE = 8;
    /** Weight rows per thread block (WARPS_PER_BLOCK of matmul.cu: one warp per row). */
    public static final int ROWS_PER_BLOCK = 8;
    /** Threads per block of all three kernels. */
    public static final int THREADS = 32 * ROWS_PER_BLOCK;
    /** Arguments of the products (w, x, y, bias, rows, cols, batch, ldy, accumulate); letters as in {@link CudaKernel#signature()}. */
    public static final String PRODUCT_SIGNATURE = "ppppiiiii";
    /** Arguments of the embedding lookup (w, tokens, out, cols). */
    public static final String EMBED_SIGNATURE = "pppi";

    public static WeightKernels of(String tensor, GgmlType type) {
        if (!TYPES.contains(type)) {
            throw new UnsupportedTensorTypeException(tensor, type);
        }
        String suffix = type.name().toLowerCase(java.util.Locale.ROOT);
        return new WeightKernels("matvec_" + suffix, "matmul_" + suffix, "embed_" + suffix);
    }
}
