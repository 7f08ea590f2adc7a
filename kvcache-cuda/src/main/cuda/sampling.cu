// Choosing the next token on the device, so that only its id leaves the GPU: the repetition
// penalty, greedy argmax, and sampling with top-k, top-p, min-p and temperature in the CPU
// sampler's order (io.kvcache.core.generate.Sampler). Each runs as one block of SAMPLE_THREADS
// threads over the vocabulary and writes the chosen id to tokens[at], where the next step's
// embedding lookup reads it.
//
// Top-k and top-p need the k-th largest logit and the smallest set of most likely tokens that
// reaches p; rather than sorting the vocabulary, both thresholds are found bit by bit on the
// logits' order-preserving 32-bit keys (a radix select: 32 block-wide counting passes each).
// Tokens tied with the threshold are all kept. The sampled token is drawn in vocabulary order
// from the kept distribution with the host's uniform number u: the same distribution as the
// CPU sampler, which draws in order of probability, but not the same draw for the same u.

#include "common.cuh"

#define SAMPLE_THREADS 1024

// Maps a float to an unsigned key with the same order.
__device__ __forceinline__ unsigned order_key(float f) {
    unsigned bits = __float_as_uint(f);
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

__device__ __forceinline__ int block_count(int v, int* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(FULL_MASK, v, offset);
    }
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    v = lane < (int) (blockDim.x >> 5) ? scratch[lane] : 0;
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(FULL_MASK, v, offset);
    }
    return v;
}

// Divides positive logits of the tokens in history[from .. to) by penalty and multiplies negative
// ones, once per distinct token (the first occurrence in the window applies it).
extern "C" __global__ void repetition_penalty(float* __restrict__ logits, const int* __restrict__ history,
                                              int from, int to, float penalty) {
    for (int i = from + threadIdx.x; i < to; i += blockDim.x) {
        int token = history[i];
        bool first = true;
        for (int j = from; j < i && first; j++) {
            first = history[j] != token;
        }
        if (first) {
            float l = logits[token];
            logits[token] = l > 0.0f ? l / penalty : l * penalty;
        }
    }
}

// The index of the largest logit (the lowest index wins a tie, as in the CPU sampler).
extern "C" __global__ void __launch_bounds__(SAMPLE_THREADS)
argmax(const float* __restrict__ logits, int n, int* __restrict__ tokens, int at) {
    __shared__ float bestValues[32];
    __shared__ int bestIndices[32];
    float best = -INFINITY;
    int index = n;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float l = logits[i];
        if (l > best) {
            best = l;
            index = i;
        }
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        float otherValue = __shfl_xor_sync(FULL_MASK, best, offset);
        int otherIndex = __shfl_xor_sync(FULL_MASK, index, offset);
        if (otherValue > best || (otherValue == best && otherIndex < index)) {
            best = otherValue;
            index = otherIndex;
        }
    }
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    if (lane == 0) {
        bestValues[warp] = best;
        bestIndices[warp] = index;
    }
    __syncthreads();
    if (warp == 0) {
        bool present = lane < (int) (blockDim.x >> 5);
        best = present ? bestValues[lane] : -INFINITY;
        index = present ? bestIndices[lane] : n;
        for (int offset = 16; offset > 0; offset >>= 1) {
            float otherValue = __shfl_xor_sync(FULL_MASK, best, offset);
            int otherIndex = __shfl_xor_sync(FULL_MASK, index, offset);
            if (otherValue > best || (otherValue == best && otherIndex < index)) {
                best = otherValue;
                index = otherIndex;
            }
        }
        if (lane == 0) {
            // every logit NaN: fall back to token 0 rather than an id outside the vocabulary
            tokens[at] = index < n ? index : 0;
        }
    }
}

// Inclusive prefix sum over the block; total receives the sum of all threads.
__device__ __forceinline__ float block_inclusive_scan(float v, float* scratch, float* total) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    for (int offset = 1; offset < 32; offset <<= 1) {
        float other = __shfl_up_sync(FULL_MASK, v, offset);
        if (lane >= offset) {
            v += other;
        }
    }
    __syncthreads();
    if (lane == 31) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < (int) (blockDim.x >> 5) ? scratch[lane] : 0.0f;
        for (int offset = 1; offset < 32; offset <<= 1) {
            float other = __shfl_up_sync(FULL_MASK, w, offset);
            if (lane >= offset) {
                w += other;
            }
        }
        scratch[lane] = w;
    }
    __syncthreads();
    *total = scratch[(blockDim.x >> 5) - 1];
    return warp > 0 ? v + scratch[warp - 1] : v;
}

// Samples from the logits: keeps the topK most likely (0: all), then the smallest set reaching
// topP of their probability (1: all), then those at least minP times the most likely (0: all),
// and draws from the kept tokens' softmax at temperature (> 0) with u in [0, 1).
extern "C" __global__ void __launch_bounds__(SAMPLE_THREADS)
sample(const float* __restrict__ logits, int n, float temperature, int topK, float topP, float minP, float u,
       int* __restrict__ tokens, int at) {
    __shared__ float scratch[32];
    __shared__ int counts[32];
    __shared__ int chosen;
    float localMax = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        localMax = fmaxf(localMax, logits[i]);
    }
    float maxLogit = block_max(localMax, scratch);

    unsigned threshold = 0;
    if (topK > 0 && topK < n) {
        for (int bit = 31; bit >= 0; bit--) {
            unsigned candidate = threshold | (1u << bit);
            int count = 0;
            for (int i = threadIdx.x; i < n; i += blockDim.x) {
                count += order_key(logits[i]) >= candidate;
            }
            if (block_count(count, counts) >= topK) {
                threshold = candidate;
            }
        }
    }
    if (topP < 1.0f) {
        float mass = 0.0f;
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            float l = logits[i];
            mass += order_key(l) >= threshold ? expf(l - maxLogit) : 0.0f;
        }
        float target = topP * block_sum(mass, scratch);
        unsigned nucleus = 0;
        for (int bit = 31; bit >= 0; bit--) {
            unsigned candidate = nucleus | (1u << bit);
            unsigned bound = max(candidate, threshold);
            float part = 0.0f;
            for (int i = threadIdx.x; i < n; i += blockDim.x) {
                float l = logits[i];
                part += order_key(l) >= bound ? expf(l - maxLogit) : 0.0f;
            }
            if (block_sum(part, scratch) >= target) {
                nucleus = candidate;
            }
        }
        threshold = max(threshold, nucleus);
    }

    // Each thread takes a contiguous chunk, so that the prefix sums over threads follow vocabulary order.
    int chunk = (n + blockDim.x - 1) / blockDim.x;
    int begin = min(n, (int) threadIdx.x * chunk);
    int end = min(n, begin + chunk);
    float local = 0.0f;
    int lastKept = -1;
    for (int i = begin; i < end; i++) {
        float l = logits[i];
        if (order_key(l) >= threshold && expf(l - maxLogit) >= minP) {
            local += expf((l - maxLogit) / temperature);
            lastKept = i;
        }
    }
    if (threadIdx.x == 0) {
        chosen = -1;
    }
    float total;
    float inclusive = block_inclusive_scan(local, scratch, &total);
    float exclusive = inclusive - local;
    float target = u * total;
    if (lastKept >= 0 && exclusive <= target && target < inclusive) {
        float running = exclusive;
        int pick = lastKept;
        for (int i = begin; i < end; i++) {
            float l = logits[i];
            if (order_key(l) >= threshold && expf(l - maxLogit) >= minP) {
                running += expf((l - maxLogit) / temperature);
                if (running > target) {
                    pick = i;
                    break;
                }
            }
        }
        chosen = pick;
    }
    __syncthreads();
    if (chosen < 0) {
        // u * total rounded to the total itself: the last kept token, as the CPU sampler falls back to it
        int last = lastKept;
        for (int offset = 16; offset > 0; offset >>= 1) {
            last = max(last, __shfl_xor_sync(FULL_MASK, last, offset));
        }
        if ((threadIdx.x & 31) == 0) {
            atomicMax(&chosen, last);
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        tokens[at] = chosen;
    }
}
