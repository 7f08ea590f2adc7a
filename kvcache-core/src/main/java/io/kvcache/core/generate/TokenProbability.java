package io.kvcache.core.generate;

/** A candidate token and its probability under the softmax of the raw logits over the whole vocabulary. */
public record TokenProbability(int id, double probability) {
}
