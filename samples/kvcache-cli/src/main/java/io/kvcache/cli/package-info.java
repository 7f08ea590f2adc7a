/**
 * The {@code kvcache} command-line tool: generate, tokenize, perplexity, bench, eval-kv, kv-report.
 */
package io.kvcache.cli;
