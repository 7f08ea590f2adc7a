/**
 * Generation: the loop that evaluates a prompt, samples token after token, stops on stop strings,
 * end of sequence or max tokens, and streams UTF-8-safe text.
 */
package io.kvcache.core.generate;
