/**
 * A model as loaded: its configuration, weights (memory-mapped, never copied to the heap),
 * tokenizer and chat template, from a GGUF file or a Hugging Face folder. Each format's loader reads
 * the configuration; the weights of both are built by one reader from a table of tensor names per
 * format ({@code TensorNames}).
 */
package io.kvcache.core.model;
