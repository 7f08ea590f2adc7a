/**
 * What a backend is and how one is chosen: the forward pass interface generation, perplexity and
 * the chat model call, the backends found with {@link java.util.ServiceLoader} and the selection
 * among them. Implementations live elsewhere (the CPU's in {@code io.kvcache.core.cpu}, CUDA's in
 * kvcache-cuda).
 */
package io.kvcache.core.backend;
