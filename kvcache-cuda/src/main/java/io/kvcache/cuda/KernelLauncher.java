package io.kvcache.cuda;

import io.kvcache.core.tensor.GgmlType;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/**
 * Launches the kernels with the argument lists and launch shapes their sources declare, all on
 * the context's default stream, so they run in the order launched.
 */
final class KernelLauncher {
    /** A null device pointer, for optional arguments. */
    static final CUdeviceptr NULL = new CUdeviceptr();

    private static final int MAX_GRID = 65535;

    private final CudaDevice device;

    KernelLauncher(CudaDevice device) {
        this.device = device;
    }

    private void launch(CUfunction function, String name, String signature, int gridX, int gridY, int block,
                        Object... arguments) {
        JCudaDriver.cuLaunchKernel(function, gridX, gridY, 1, block, 1, 1, 0, null,
                Pointer.to(parameters(name, signature, arguments)), null);
    }

    /**
     * The kernel parameters of a launch, checked against the kernel's signature: a missing, extra or
     * mistyped argument would make the kernel read garbage on the device, so it fails here instead.
     */
    static Pointer[] parameters(String name, String signature, Object... arguments) {
        if (arguments.length != signature.length()) {
            throw new IllegalArgumentException(name + " takes " + signature.length() + " arguments, given " + arguments.length);
        }
        Pointer[] parameters = new Pointer[arguments.length];
        for (int i = 0; i < arguments.length; i++) {
            char expected = signature.charAt(i);
            parameters[i] = switch (arguments[i]) {
                case CUdeviceptr pointer when expected == 'p' -> Pointer.to(pointer);
                case Integer value when expected == 'i' -> Pointer.to(new int[] {value});
                case Float value when expected == 'f' -> Pointer.to(new float[] {value});
                default -> throw new IllegalArgumentException(name + " argument " + i + " must be '" + expected
                        + "' (p pointer, i int, f float), given " + arguments[i].getClass().getSimpleName());
            };
        }
        return parameters;
    }

    private void launch(CudaKernel kernel, int gridX, int gridY, Object... arguments) {
        launch(device.function(kernel.module(), kernel.entry()), kernel.entry(), kernel.signature(), gridX, gridY,
                kernel.threads(), arguments);
    }

    /**
     * y[b * ldy + r] (+)= W x_b (+ bias) for the {@code rows} rows of type {@code type} at {@code w}
     * and {@code batch} inputs of {@code cols} floats at {@code x}.
     */
    void product(String tensor, GgmlType type, CUdeviceptr w, int rows, int cols, CUdeviceptr x, int batch,
                 CUdeviceptr y, int ldy, CUdeviceptr bias, boolean accumulate) {
        WeightKernels k = WeightKernels.of(tensor, type);
        int blocks = (rows + WeightKernels.ROWS_PER_BLOCK - 1) / WeightKernels.ROWS_PER_BLOCK;
        int tiles = (batch + WeightKernels.BATCH_TILE - 1) / WeightKernels.BATCH_TILE;
        if (tiles > MAX_GRID) {
            throw new IllegalArgumentException("a batch of " + batch + " rows exceeds the grid of the batch product");
        }
        String entry = batch == 1 ? k.matvec() : k.matmul();
        launch(device.function(PtxModule.MATMUL, entry), entry, WeightKernels.PRODUCT_SIGNATURE, blocks,
                batch == 1 ? 1 : tiles, WeightKernels.THREADS, w, x, y, bias, rows, cols, batch, ldy, accumulate ? 1 : 0);
    }

    /** out[b] = decoded row tokens[b] of the embedding, for {@code count} tokens. */
    void embed(String tensor, GgmlType type, CUdeviceptr w, CUdeviceptr tokens, CUdeviceptr out, int cols, int count) {
        String entry = WeightKernels.of(tensor, type).embed();
        launch(device.function(PtxModule.MATMUL, entry), entry, WeightKernels.EMBED_SIGNATURE, count, 1,
                WeightKernels.THREADS, w, tokens, out, cols);
    }

    void rmsNorm(CUdeviceptr x, CUdeviceptr gain, CUdeviceptr out, int rows, int n, float eps) {
        launch(CudaKernel.RMS_NORM, rows, 1, x, gain, out, n, eps);
    }

    /**
     * The q/k norm, RoPE and cache store of attention.cu for {@code count} tokens from position
     * {@code start}; {@code store} false launches the query heads only.
     */
    void qkNormRopeStore(CUdeviceptr qkv, int stride, CUdeviceptr queryNorm, CUdeviceptr keyNorm, CUdeviceptr frequencies,
                         CUdeviceptr keys, CUdeviceptr values, int heads, int kvHeads, int headDim, int valueDim,
                         int ropeDims, boolean neox, int capacity, int start, int count, float eps, boolean store) {
        launch(CudaKernel.QK_NORM_ROPE_STORE, store ? heads + kvHeads : heads, count, qkv, stride,
                queryNorm, keyNorm, frequencies, keys, values, heads, kvHeads, headDim, valueDim, ropeDims, neox ? 1 : 0,
                capacity, start, eps);
    }

    void attention(CUdeviceptr qkv, int stride, CUdeviceptr keys, CUdeviceptr values, CUdeviceptr out, int heads,
                   int kvHeads, int headDim, int valueDim, int capacity, int start, int count, boolean diagonal) {
        launch(CudaKernel.ATTENTION, heads, count, qkv, stride, keys, values, out, heads, kvHeads,
                headDim, valueDim, capacity, start, diagonal ? 1 : 0, (float) (1.0 / Math.sqrt(headDim)));
    }

    void swiglu(CUdeviceptr gateUp, CUdeviceptr out, int n, int count) {
        long total = (long) n * count;
        int threads = CudaKernel.SWIGLU.threads();
        int blocks = (int) Math.min(MAX_GRID, (total + threads - 1) / threads);
        launch(CudaKernel.SWIGLU, blocks, 1, gateUp, out, n, count);
    }

    void repetitionPenalty(CUdeviceptr logits, CUdeviceptr history, int from, int to, float penalty) {
        launch(CudaKernel.REPETITION_PENALTY, 1, 1, logits, history, from, to, penalty);
    }

    void argmax(CUdeviceptr logits, int n, CUdeviceptr tokens, int at) {
        launch(CudaKernel.ARGMAX, 1, 1, logits, n, tokens, at);
    }

    void sample(CUdeviceptr logits, int n, float temperature, int topK, float topP, float minP, float u,
                CUdeviceptr tokens, int at) {
        launch(CudaKernel.SAMPLE, 1, 1, logits, n, temperature, topK, topP, minP, u, tokens, at);
    }
}
