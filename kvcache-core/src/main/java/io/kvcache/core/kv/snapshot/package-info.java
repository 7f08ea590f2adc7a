/**
 * Conversations that outlive the process: {@link io.kvcache.core.kv.snapshot.CacheSnapshot} writes a
 * compressed KV cache, every head as its policy left it, as versioned bytes and restores it exactly;
 * {@link io.kvcache.core.kv.snapshot.ModelIdentity} says which model the bytes belong to.
 */
package io.kvcache.core.kv.snapshot;
