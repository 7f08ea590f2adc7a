// Products of quantized weight matrices with float activations, read on the blocks as stored.
//
// matvec_<type> (one input row: a decode step) and matmul_<type> (a batch: prefill) compute
//   Y[b * ldy + r] = sum_c W[r][c] * X[b * cols + c]  (+ bias[r]) (+ Y[b * ldy + r] when accumulate)
// for r < rows, b < batch. One warp owns one weight row; its lanes walk the row 8 values at a time,
// so each group of 8 weights is decoded once and multiplied with up to TILE input rows (grid.y
// covers the batch TILE rows at a time). The bias and the residual addition ride along so that a
// projection, its bias and the residual connection take one launch; ldy lets the q, k and v (or
// gate and up) projections write side by side into one buffer.
//
// embed_<type> copies rows tokens[0 .. count) of an embedding matrix, decoded to float.

#include "blocks.cuh"
#include "common.cuh"

#define WARPS_PER_BLOCK 8

template <class D, int TILE>
__device__ __forceinline__ void matmul_rows(const uint8_t* __restrict__ w, const float* __restrict__ x,
                                            float* __restrict__ y, const float* __restrict__ bias,
                                            int rows, int cols, int batch, int ldy, int accumulate) {
    int lane = threadIdx.x & 31;
    int r = blockIdx.x * WARPS_PER_BLOCK + (threadIdx.x >> 5);
    if (r >= rows) {
        return;
    }
    int first = blockIdx.y * TILE;
    int inputs = min(TILE, batch - first);
    const uint8_t* row = w + (size_t) r * row_bytes<D>(cols);
    const float* xs = x + (size_t) first * cols;
    float acc[TILE];
#pragma unroll
    for (int t = 0; t < TILE; t++) {
        acc[t] = 0.0f;
    }
    int groups = cols >> 3;
    for (int g = lane; g < groups; g += 32) {
        float v[8];
        D::group(row, g, v);
#pragma unroll
        for (int t = 0; t < TILE; t++) {
            if (t < inputs) {
                const float* xt = xs + (size_t) t * cols + 8 * g;
#pragma unroll
                for (int k = 0; k < 8; k++) {
                    acc[t] = fmaf(v[k], xt[k], acc[t]);
                }
            }
        }
    }
    if constexpr (D::PLAIN) {
        for (int c = 8 * groups + lane; c < cols; c += 32) {
            float v = D::value(row, c);
#pragma unroll
            for (int t = 0; t < TILE; t++) {
                if (t < inputs) {
                    acc[t] = fmaf(v, xs[(size_t) t * cols + c], acc[t]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < TILE; t++) {
        float sum = warp_sum(acc[t]);
        if (lane == 0 && t < inputs) {
            float* out = y + (size_t) (first + t) * ldy + r;
            if (bias != nullptr) {
                sum += bias[r];
            }
            *out = accumulate ? *out + sum : sum;
        }
    }
}

template <class D>
__device__ __forceinline__ void embed_rows(const uint8_t* __restrict__ w, const int* __restrict__ tokens,
                                           float* __restrict__ out, int cols) {
    const uint8_t* row = w + (size_t) tokens[blockIdx.x] * row_bytes<D>(cols);
    float* dst = out + (size_t) blockIdx.x * cols;
    int groups = cols >> 3;
    for (int g = threadIdx.x; g < groups; g += blockDim.x) {
        float v[8];
        D::group(row, g, v);
#pragma unroll
        for (int k = 0; k < 8; k++) {
            dst[8 * g + k] = v[k];
        }
    }
    if constexpr (D::PLAIN) {
        for (int c = 8 * groups + threadIdx.x; c < cols; c += blockDim.x) {
            dst[c] = D::value(row, c);
        }
    }
}

#define MATMUL_KERNELS(NAME, DECODER)                                                                          \
    extern "C" __global__ void __launch_bounds__(32 * WARPS_PER_BLOCK)                                         \
    matvec_##NAME(const uint8_t* w, const float* x, float* y, const float* bias, int rows, int cols,           \
                  int batch, int ldy, int accumulate) {                                                       \
        matmul_rows<DECODER, 1>(w, x, y, bias, rows, cols, batch, ldy, accumulate);                           \
    }                                                                                                          \
    extern "C" __global__ void __launch_bounds__(32 * WARPS_PER_BLOCK)                                         \
    matmul_##NAME(const uint8_t* w, const float* x, float* y, const float* bias, int rows, int cols,           \
                  int batch, int ldy, int accumulate) {                                                       \
        matmul_rows<DECODER, 8>(w, x, y, bias, rows, cols, batch, ldy, accumulate);                           \
    }                                                                                                          \
    extern "C" __global__ void embed_##NAME(const uint8_t* w, const int* tokens, float* out, int cols) {       \
        embed_rows<DECODER>(w, tokens, out, cols);                                                             \
    }

MATMUL_KERNELS(f32, DecodeF32)
MATMUL_KERNELS(f16, DecodeF16)
MATMUL_KERNELS(bf16, DecodeBF16)
MATMUL_KERNELS(q8_0, DecodeQ8_0)
MATMUL_KERNELS(q4_0, DecodeQ4_0)
MATMUL_KERNELS(q4_k, DecodeQ4_K)
MATMUL_KERNELS(q5_k, DecodeQ5_K)
MATMUL_KERNELS(q6_k, DecodeQ6_K)
