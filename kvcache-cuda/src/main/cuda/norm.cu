// RMSNorm of rows: out[r][i] = x[r][i] / sqrt(mean(x[r]^2) + eps) * gain[i], one block per row.
// The sum of squares is taken in double, as the CPU backend takes it.

#include "common.cuh"

extern "C" __global__ void rms_norm(const float* __restrict__ x, const float* __restrict__ gain,
                                    float* __restrict__ out, int n, float eps) {
    __shared__ double partial[32];
    const float* row = x + (size_t) blockIdx.x * n;
    float* dst = out + (size_t) blockIdx.x * n;
    double sum = 0.0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        double v = row[i];
        sum += v * v;
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        sum += __shfl_xor_sync(FULL_MASK, sum, offset);
    }
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    if (lane == 0) {
        partial[warp] = sum;
    }
    __syncthreads();
    if (warp == 0) {
        sum = lane < (int) (blockDim.x >> 5) ? partial[lane] : 0.0;
        for (int offset = 16; offset > 0; offset >>= 1) {
            sum += __shfl_xor_sync(FULL_MASK, sum, offset);
        }
        if (lane == 0) {
            partial[0] = sum;
        }
    }
    __syncthreads();
    float scale = 1.0f / sqrtf((float) (partial[0] / n) + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        dst[i] = row[i] * scale * gain[i];
    }
}
