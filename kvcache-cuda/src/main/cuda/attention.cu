// Attention over the fp16 KV cache of one layer, kept per KV head as the CPU cache keeps it:
// kCache holds [kvHeads][capacity][headDim] halves, vCache [kvHeads][capacity][valueDim]; the entry
// of a token is its position. Per token, the projections sit side by side in one row of qkv:
// q (heads x headDim) | k (kvHeads x headDim) | v (kvHeads x valueDim), rows stride floats apart.

#include <cuda_fp16.h>
#include "common.cuh"

#define MAX_HEAD_DIM 256
#define ATTENTION_THREADS 128
#define VALUES_PER_THREAD (MAX_HEAD_DIM / ATTENTION_THREADS)

// For token blockIdx.y at position start + blockIdx.y, head blockIdx.x (queries first, then keys):
// the optional per-head RMSNorm (Qwen 3's q/k norm), RoPE (neox: pairs (i, i + ropeDims/2), else
// (2i, 2i+1); angle position * invFreq[i]), then queries are written back in place and keys, with
// the values of the same KV head, are stored in the cache as fp16. The host launches only the
// query heads for a layer that attends to another layer's cache.
extern "C" __global__ void __launch_bounds__(ATTENTION_THREADS)
qk_norm_rope_store(float* __restrict__ qkv, int stride, const float* __restrict__ qNorm,
                   const float* __restrict__ kNorm, const float* __restrict__ invFreq,
                   __half* __restrict__ kCache, __half* __restrict__ vCache, int heads, int kvHeads,
                   int headDim, int valueDim, int ropeDims, int neox, int capacity, int start, float eps) {
    __shared__ float head[MAX_HEAD_DIM];
    __shared__ float scratch[32];
    int b = blockIdx.y;
    int pos = start + b;
    bool isKey = (int) blockIdx.x >= heads;
    int kvHead = blockIdx.x - heads;
    float* token = qkv + (size_t) b * stride;
    float* src = isKey ? token + heads * headDim + kvHead * headDim : token + blockIdx.x * headDim;
    const float* gain = isKey ? kNorm : qNorm;
    float squares = 0.0f;
    for (int i = threadIdx.x; i < headDim; i += blockDim.x) {
        float v = src[i];
        head[i] = v;
        squares += v * v;
    }
    if (gain != nullptr) {
        float scale = rsqrtf(block_sum(squares, scratch) / headDim + eps);
        for (int i = threadIdx.x; i < headDim; i += blockDim.x) {
            head[i] = head[i] * scale * gain[i];
        }
    }
    __syncthreads();
    int pairs = ropeDims / 2;
    for (int i = threadIdx.x; i < pairs; i += blockDim.x) {
        int a = neox ? i : 2 * i;
        int c = neox ? i + pairs : 2 * i + 1;
        float sine, cosine;
        sincosf((float) pos * invFreq[i], &sine, &cosine);
        float x0 = head[a];
        float x1 = head[c];
        head[a] = fmaf(x0, cosine, -(x1 * sine));
        head[c] = fmaf(x0, sine, x1 * cosine);
    }
    __syncthreads();
    if (!isKey) {
        for (int i = threadIdx.x; i < headDim; i += blockDim.x) {
            src[i] = head[i];
        }
        return;
    }
    __half* key = kCache + ((size_t) kvHead * capacity + pos) * headDim;
    for (int i = threadIdx.x; i < headDim; i += blockDim.x) {
        key[i] = __float2half_rn(head[i]);
    }
    const float* value = token + heads * headDim + kvHeads * headDim + kvHead * valueDim;
    __half* stored = vCache + ((size_t) kvHead * capacity + pos) * valueDim;
    for (int i = threadIdx.x; i < valueDim; i += blockDim.x) {
        stored[i] = __float2half_rn(value[i]);
    }
}

// out[b][h] = softmax(q . K / sqrt(d)) V for query head blockIdx.x of token blockIdx.y, over the
// entries 0 .. start + b + diagonal of its KV head (diagonal 1: the token sees itself; 0: a layer
// that attends to a later layer's cache, which does not hold this token yet). Keys are taken a
// tile of ATTENTION_THREADS at a time, one per thread, with a running maximum and sum (online
// softmax), so any context length fits in shared memory; each thread accumulates up to
// VALUES_PER_THREAD output dimensions.
extern "C" __global__ void __launch_bounds__(ATTENTION_THREADS)
attention(const float* __restrict__ qkv, int stride, const __half* __restrict__ kCache,
          const __half* __restrict__ vCache, float* __restrict__ out, int heads, int kvHeads, int headDim,
          int valueDim, int capacity, int start, int diagonal, float scale) {
    __shared__ float query[MAX_HEAD_DIM];
    __shared__ float probs[ATTENTION_THREADS];
    __shared__ float scratch[32];
    int h = blockIdx.x;
    int b = blockIdx.y;
    int kvHead = h / (heads / kvHeads);
    int visible = start + b + diagonal;
    const float* q = qkv + (size_t) b * stride + h * headDim;
    for (int i = threadIdx.x; i < headDim; i += blockDim.x) {
        query[i] = q[i];
    }
    __syncthreads();
    const __half* keys = kCache + (size_t) kvHead * capacity * headDim;
    const __half* values = vCache + (size_t) kvHead * capacity * valueDim;
    float runningMax = -INFINITY;
    float runningSum = 0.0f;
    float acc[VALUES_PER_THREAD];
#pragma unroll
    for (int j = 0; j < VALUES_PER_THREAD; j++) {
        acc[j] = 0.0f;
    }
    for (int tile = 0; tile < visible; tile += ATTENTION_THREADS) {
        int e = tile + threadIdx.x;
        float score = -INFINITY;
        if (e < visible) {
            const __half2* key = reinterpret_cast<const __half2*>(keys + (size_t) e * headDim);
            float dot = 0.0f;
            for (int i = 0; i < headDim / 2; i++) {
                float2 k = __half22float2(key[i]);
                dot = fmaf(query[2 * i], k.x, dot);
                dot = fmaf(query[2 * i + 1], k.y, dot);
            }
            score = dot * scale;
        }
        float newMax = fmaxf(runningMax, block_max(score, scratch));
        float p = e < visible ? expf(score - newMax) : 0.0f;
        probs[threadIdx.x] = p;
        float tileSum = block_sum(p, scratch);
        float correction = expf(runningMax - newMax);
        runningSum = runningSum * correction + tileSum;
        int n = min(ATTENTION_THREADS, visible - tile);
#pragma unroll
        for (int j = 0; j < VALUES_PER_THREAD; j++) {
            int d = threadIdx.x + j * ATTENTION_THREADS;
            if (d < valueDim) {
                float a = acc[j] * correction;
                const __half* column = values + (size_t) tile * valueDim + d;
                for (int t = 0; t < n; t++) {
                    a = fmaf(probs[t], __half2float(column[(size_t) t * valueDim]), a);
                }
                acc[j] = a;
            }
        }
        runningMax = newMax;
    }
    float* dst = out + ((size_t) b * heads + h) * valueDim;
    float norm = runningSum > 0.0f ? 1.0f / runningSum : 0.0f;
#pragma unroll
    for (int j = 0; j < VALUES_PER_THREAD; j++) {
        int d = threadIdx.x + j * ATTENTION_THREADS;
        if (d < valueDim) {
            dst[d] = acc[j] * norm;
        }
    }
}
