/**
 * Choosing the next token from logits: greedy, temperature, top-k, top-p, min-p, repetition
 * penalty, seed. Backends that sample where the logits are (on a GPU) read the same settings.
 */
package io.kvcache.core.sampling;
