/**
 * Tensor types and their kernels: fp16/bf16 conversions, the quantized block formats and dot
 * products in ggml's summation order, weight matrices and the compute pool that runs them.
 */
package io.kvcache.core.tensor;
