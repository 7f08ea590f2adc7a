/**
 * Choosing the next token from logits: greedy, temperature, top-k, top-p, min-p, repetition
 * penalty, seed. Backends that sample where the logits are (on a GPU) read the same settings.
 * The one argmax ({@link io.kvcache.core.sampling.Sampler#argmax}) and log-softmax
 * ({@link io.kvcache.core.sampling.LogSoftmax}) that generation, its reports and the measures share.
 */
package io.kvcache.core.sampling;
