package io.kvcache.core.generate;

import io.kvcache.core.ContextOverflowException;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.grammar.TokenConstraint;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.LogSoftmax;
import io.kvcache.core.sampling.Sampler;
import io.kvcache.core.sampling.SamplingParams;
import io.kvcache.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Generates text for one sequence at a time: evaluates the prompt in one batch, then samples and
 * evaluates one token per step until an end-of-generation token, a stop string, the token limit
 * or the end of the context.
 */
public final class Generator {
    /** Receives each step as it happens; returning false cancels the generation. */
    @FunctionalInterface
    public interface StepListener {
        boolean onStep(GenerationStep step);
    }

    private final Model model;
    private final ForwardPass transformer;

    public Generator(Model model, ForwardPass transformer) {
        this.model = model;
        this.transformer = transformer;
    }

    /** Tokenizes {@code prompt} (BOS as the vocabulary says, special tokens parsed) and generates. */
    public GenerationResult generate(String prompt, SamplingParams params, int topProbabilities, StepListener listener) {
        return generate(model.tokenizer().encode(prompt, true, true), params, topProbabilities, listener);
    }

    /**
     * Generates after {@code prompt} in a fresh cache of the model's full context.
     *
     * @param topProbabilities how many most likely candidates to report per step (0: none)
     */
    public GenerationResult generate(int[] prompt, SamplingParams params, int topProbabilities, StepListener listener) {
        return generate(prompt, params, topProbabilities, null, listener);
    }

    /** Generates after {@code prompt} in a fresh cache of the model's full context, held to {@code constraint} if not null. */
    public GenerationResult generate(int[] prompt, SamplingParams params, int topProbabilities, TokenConstraint constraint,
                                     StepListener listener) {
        return generate(transformer.newSequence(model.config().contextLength(), KvCacheConfig.full(),
                TokenClasses.ordinary(model.config().vocabularySize())), prompt, params, topProbabilities, constraint,
                listener);
    }

    /** Generates after {@code prompt}, appending to {@code cache} (which must be empty or hold a prefix already evaluated). */
    public GenerationResult generate(Sequence cache, int[] prompt, SamplingParams params, int topProbabilities,
                                     StepListener listener) {
        return generate(cache, prompt, params, topProbabilities, null, listener);
    }

    /**
     * Generates as {@link #generate(Sequence, int[], SamplingParams, int, StepListener)} does, held to
     * {@code constraint} when there is one: before each token is sampled the tokens that cannot
     * continue the document are masked (end of generation only once it is whole), and generation
     * ends when the document is whole and nothing may follow it.
     */
    public GenerationResult generate(Sequence cache, int[] prompt, SamplingParams params, int topProbabilities,
                                     TokenConstraint constraint, StepListener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token (a BOS token counts)");
        }
        if (cache.length() + prompt.length > cache.capacity()) {
            throw new ContextOverflowException("the prompt has " + prompt.length + " tokens but the context holds "
                    + (cache.capacity() - cache.length()) + " more");
        }
        Tokenizer tokenizer = model.tokenizer();
        int vocabulary = model.config().vocabularySize();
        Sampler sampler = new Sampler(params);
        Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
        StopStringMatcher stops = new StopStringMatcher(params.stop());
        StringBuilder text = new StringBuilder();
        List<GenerationStep> steps = new ArrayList<>();
        // At most one token more than the cache has room for is generated (the last is not evaluated);
        // max tokens may be far larger ("no limit"), so it does not size the history.
        long room = (long) cache.capacity() - cache.length() - prompt.length + 1;
        int[] history = Arrays.copyOf(prompt, (int) Math.min((long) prompt.length + params.maxTokens(), prompt.length + room));
        int length = prompt.length;

        long t0 = System.nanoTime();
        // Without top probabilities to report or a constraint to apply, the backend picks each token
        // itself (on a GPU: where the logits are).
        boolean needsLogits = topProbabilities > 0 || constraint != null;
        float[] logits = null;
        int token = -1;
        if (params.maxTokens() > 0) {
            if (needsLogits) {
                logits = transformer.forward(cache, prompt, 0, prompt.length, ForwardPass.Logits.LAST);
            } else {
                token = transformer.forwardAndSample(cache, prompt, 0, prompt.length, sampler, history, length);
            }
        }
        long prefillNanos = System.nanoTime() - t0;
        long decodeStart = System.nanoTime();
        FinishReason reason = FinishReason.MAX_TOKENS;
        while (length - prompt.length < params.maxTokens()) {
            List<TokenProbability> top = List.of();
            if (needsLogits) {
                if (constraint != null) {
                    constraint.mask(logits, 0, vocabulary, params.maxTokens() - (length - prompt.length));
                }
                top = topProbabilities > 0 ? topProbabilities(logits, topProbabilities) : List.of();
                token = sampler.sample(logits, 0, vocabulary, history, length);
                if (constraint != null) {
                    constraint.accept(token);
                }
            }
            history[length++] = token;
            boolean end = tokenizer.isEndOfGeneration(token);
            String piece = end ? "" : stops.push(utf8.push(tokenizer.tokenBytes(token)));
            if (end) {
                reason = FinishReason.END_OF_GENERATION;
            } else if (stops.stopped()) {
                reason = FinishReason.STOP_STRING;
            } else if (constraint != null && constraint.isComplete()) {
                reason = FinishReason.DOCUMENT_COMPLETE;
            } else if (cache.length() == cache.capacity() && length - prompt.length < params.maxTokens()) {
                reason = FinishReason.CONTEXT_FULL;
            }
            boolean last = reason != FinishReason.MAX_TOKENS || length - prompt.length == params.maxTokens();
            if (last && !stops.stopped()) {
                // Nothing follows: release what was held for a possible stop string or an unfinished character.
                piece += stops.push(utf8.flush()) + stops.flush();
            }
            text.append(piece);
            GenerationStep step = new GenerationStep(token, piece, top);
            steps.add(step);
            if (!listener.onStep(step)) {
                reason = FinishReason.CANCELLED;
                break;
            }
            if (last) {
                break;
            }
            if (needsLogits) {
                logits = transformer.forward(cache, history, length - 1, 1, ForwardPass.Logits.LAST);
            } else {
                token = transformer.forwardAndSample(cache, history, length - 1, 1, sampler, history, length);
            }
        }
        long decodeNanos = System.nanoTime() - decodeStart;
        return new GenerationResult(prompt, Arrays.copyOfRange(history, prompt.length, length), text.toString(),
                List.copyOf(steps), reason, prefillNanos, decodeNanos);
    }

    /** The k most likely tokens under the softmax of the raw logits over the whole vocabulary. */
    public static List<TokenProbability> topProbabilities(float[] logits, int k) {
        LogSoftmax.Row row = LogSoftmax.row(logits, 0, logits.length);
        PriorityQueue<Integer> best = new PriorityQueue<>(Comparator.comparingDouble(i -> logits[i]));
        for (int i = 0; i < logits.length; i++) {
            if (best.size() < k) {
                best.add(i);
            } else if (logits[i] > logits[best.peek()]) {
                best.poll();
                best.add(i);
            }
        }
        List<TokenProbability> top = new ArrayList<>();
        while (!best.isEmpty()) {
            int i = best.poll();
            top.add(new TokenProbability(i, Math.exp(row.of(logits[i]))));
        }
        return top.reversed();
    }
}
