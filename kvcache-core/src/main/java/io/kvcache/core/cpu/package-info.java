/**
 * The CPU backend: the forward pass of a Llama-family decoder on the Vector API and the compute
 * pool's threads, its attention kernels (llama.cpp's flash attention orders, and the plain softmax
 * compressed heads need), RoPE and the vector helpers it uses.
 */
package io.kvcache.core.cpu;
