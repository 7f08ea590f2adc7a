/**
 * The engine: a local LLM that runs in-process, with a KV cache compressed per layer and per KV
 * head. This package holds the exceptions every part of the engine may throw; the subpackages
 * depend on each other one way only (checked by {@code PackageDependenciesTest}):
 * {@code tensor} and {@code format} (the model file readers) at the bottom, then {@code tokenizer},
 * {@code grammar}, {@code chat} and {@code model}, then {@code kv} and {@code sampling}, then {@code backend} and {@code cpu}, then
 * {@code generate} and {@code eval}.
 */
package io.kvcache.core;
