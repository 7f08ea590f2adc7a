/**
 * JMH benchmarks of the quantized kernels.
 */
package io.kvcache.benchmarks;
