/**
 * The GGUF file format: a memory-mapped reader of its metadata and tensors.
 */
package io.kvcache.core.gguf;
