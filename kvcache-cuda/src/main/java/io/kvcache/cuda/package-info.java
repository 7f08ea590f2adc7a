/**
 * The CUDA backend: device context, PTX kernels, device memory plan, the forward pass on the GPU
 * and its provider, chosen under {@code kvcache.backend=auto} when a GPU is usable.
 */
package io.kvcache.cuda;
