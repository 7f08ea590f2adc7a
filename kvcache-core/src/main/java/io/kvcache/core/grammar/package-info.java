/**
 * Grammar-constrained decoding: a grammar (GBNF, the notation of llama.cpp and Ollama's
 * {@code format}, or compiled from a JSON schema) becomes a byte-level pushdown automaton, walked
 * together with a trie of the vocabulary so each step masks the tokens that cannot continue a
 * valid prefix of the document.
 */
package io.kvcache.core.grammar;
