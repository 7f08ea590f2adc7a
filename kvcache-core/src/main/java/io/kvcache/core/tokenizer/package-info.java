/**
 * Tokenizers as llama.cpp and Hugging Face define them: SentencePiece-style and byte-level BPE
 * with their pre-tokenizers, from GGUF metadata or {@code tokenizer.json}.
 */
package io.kvcache.core.tokenizer;
