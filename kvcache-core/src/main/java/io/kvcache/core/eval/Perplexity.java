package io.kvcache.core.eval;

import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.LogSoftmax;

/**
 * Perplexity by llama.cpp's method, so the figures compare with its perplexity tool: the text is
 * tokenized once (with BOS where the model adds one), cut into chunks of {@code context} tokens
 * (the remainder dropped), each chunk evaluated in a fresh cache with its first token replaced by
 * BOS when the model adds one, and only the second half of each chunk scored.
 */
public final class Perplexity {
    /**
     * @param perplexity      exp of the mean negative log-likelihood over every scored token
     * @param chunks          chunks evaluated
     * @param scoredTokens    tokens scored
     * @param runningPerChunk the estimate after each chunk
     */
    public record Result(double perplexity, int chunks, int scoredTokens, double[] runningPerChunk) {
    }

    private Perplexity() {
    }

    public static Result compute(Model model, ForwardPass transformer, String text, int context) {
        if (context < 4) {
            throw new IllegalArgumentException("context must be at least 4 tokens, got " + context);
        }
        if (context > model.config().contextLength()) {
            throw new IllegalArgumentException("context " + context + " exceeds the model's " + model.config().contextLength());
        }
        int[] tokens = model.tokenizer().encode(text, true, false);
        int chunks = tokens.length / context;
        if (chunks == 0) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens, fewer than one chunk of "
                    + context + "; give more text or a smaller context");
        }
        int vocabulary = model.config().vocabularySize();
        int first = context / 2;
        double nll = 0;
        int scored = 0;
        double[] running = new double[chunks];
        int[] chunk = new int[context];
        for (int c = 0; c < chunks; c++) {
            System.arraycopy(tokens, c * context, chunk, 0, context);
            if (model.tokenizer().addsBos()) {
                chunk[0] = model.tokenizer().bosId();
            }
            Sequence cache = transformer.newSequence(context, KvCacheConfig.full(),
                    TokenClasses.ordinary(model.config().vocabularySize()));
            float[] logits = transformer.forward(cache, chunk, 0, context, ForwardPass.Logits.ALL);
            for (int j = first; j < context - 1; j++) {
                nll -= LogSoftmax.of(logits, j * vocabulary, vocabulary, tokens[c * context + j + 1]);
                scored++;
            }
            running[c] = Math.exp(nll / scored);
        }
        return new Result(running[chunks - 1], chunks, scored, running);
    }
}
