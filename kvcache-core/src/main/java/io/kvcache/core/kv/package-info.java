/**
 * The KV cache of a sequence and the policies that compress it. {@link io.kvcache.core.kv.KvPolicy}
 * is the sealed type of the policies (one record each); {@link io.kvcache.core.kv.KvCacheConfig}
 * pairs a policy with layer sharing and reads the string form; {@link io.kvcache.core.kv.KvCache}
 * holds the sequence's tokens and, per layer and KV head, a {@link io.kvcache.core.kv.HeadCache}
 * whose entries {@link io.kvcache.core.kv.Compactor} drops, demotes or merges as each head's
 * {@link io.kvcache.core.kv.HeadPolicy} says; {@link io.kvcache.core.kv.KvFootprint} sizes a cache
 * before it exists. The package knows nothing of how keys and values are computed.
 */
package io.kvcache.core.kv;
