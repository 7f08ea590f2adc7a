/**
 * A model as loaded: its configuration, weights (memory-mapped, never copied to the heap),
 * tokenizer and chat template, from a GGUF file or a Hugging Face folder.
 */
package io.kvcache.core.model;
