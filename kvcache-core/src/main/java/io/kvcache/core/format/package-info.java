/**
 * The model file formats: memory-mapped readers of GGUF files (metadata and tensors) and of
 * {@code .safetensors} files, sharing one bounded, validated way to map a file and one view of a
 * stored tensor. Tensor data stays in the mapping, never copied to the heap.
 */
package io.kvcache.core.format;
