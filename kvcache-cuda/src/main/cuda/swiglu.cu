// SwiGLU of the feed-forward block: out[b][i] = silu(gate) * up with gate = gateUp[b][i] and
// up = gateUp[b][n + i]: the gate and up projections of a token sit side by side in one row of 2n.

extern "C" __global__ void swiglu(const float* __restrict__ gateUp, float* __restrict__ out, int n, int count) {
    size_t total = (size_t) n * count;
    for (size_t k = (size_t) blockIdx.x * blockDim.x + threadIdx.x; k < total; k += (size_t) gridDim.x * blockDim.x) {
        size_t b = k / n;
        size_t i = k - b * n;
        float gate = gateUp[2 * b * n + i];
        float up = gateUp[2 * b * n + n + i];
        out[k] = gate / (1.0f + expf(-gate)) * up;
    }
}
