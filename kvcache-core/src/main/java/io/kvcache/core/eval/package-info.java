/**
 * Measurements of a model and a cache policy on text: perplexity by llama.cpp's method, and a
 * policy's quality against the full cache.
 */
package io.kvcache.core.eval;
