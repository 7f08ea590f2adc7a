package io.kvcache.core.eval;

import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.sampling.LogSoftmax;
import io.kvcache.core.sampling.Sampler;
import io.kvcache.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The quality of a KV-cache policy against the {@code full} cache of the same model on the same
 * text. The text is tokenized and cut into chunks of {@code context} tokens (first token BOS where
 * the model adds one), as for perplexity. In each chunk the first half is the prompt (one batch,
 * which is when FastGen profiles) and the second half is decoded token by token, teacher-forced,
 * with the policy applied after every step; the second half is scored:
 * <ul>
 *   <li>perplexity under the policy (and under the full cache),</li>
 *   <li>top-1 agreement: how often both caches rank the same token first,</li>
 *   <li>mean KL(full || policy) of the next-token distributions,</li>
 *   <li>memory ratio: bytes held / full-cache bytes at the end of the chunk (mean over chunks).</li>
 * </ul>
 * Greedy agreement: from each chunk's prompt, {@code greedyTokens} greedy tokens with each cache;
 * the length of the common prefix. Long-range recall: documents that name an invented character
 * in their first sentence, continue with a chunk of the text, and name the character again at the
 * end; the probability of the name's first token there and whether every name token ranks first.
 *
 * <p>Re-reading (a second turn about the first): a chunk's first half is the first turn, prefilled
 * in one batch and compacted before anything of the second turn is seen, so a policy that scores
 * entries by the queries it has seen cannot know what will be asked. The second turn then quotes
 * the first turn's text from its start, token by token, and each prediction is scored against the
 * full cache as above: what the first turn's cache still holds of the text the second turn needs.
 * This ranks policies even where the model recalls nothing by itself (the full cache's own
 * perplexity there shows how much it copies).
 */
public final class KvQuality {
    /** Invented names: no story text mentions them, so only the first sentence can supply them. */
    private static final String[] NAMES = {"Zorbit", "Pemmelo", "Quillan", "Trundle", "Vexa", "Brambo", "Jaxon", "Mirelle"};

    /**
     * @param context      tokens per chunk
     * @param chunks       chunks evaluated at most
     * @param greedyTokens tokens generated per greedy comparison
     * @param recallProbes recall documents
     * @param rereads      chunks whose first half is re-read as a second turn (at most {@code chunks})
     */
    public record Settings(int context, int chunks, int greedyTokens, int recallProbes, int rereads) {
    }

    /**
     * @param policy                the policy's settings as {@link KvCacheConfig#describe()} prints them
     * @param memoryRatio           held / full bytes at the end of each chunk, mean over chunks
     * @param bytesHeld             bytes held at the end of the last chunk
     * @param fullBytes             full-cache bytes at the end of the last chunk
     * @param perplexity            under the policy
     * @param fullPerplexity        under the full cache
     * @param top1Agreement         share of scored tokens where both rank the same token first
     * @param meanKl                mean KL(full || policy) in nats
     * @param greedyMatch           mean common prefix of greedy continuations, in tokens
     * @param greedyTokens          tokens per greedy continuation
     * @param recallProbability     mean probability of the recalled name's first token under the policy
     * @param fullRecallProbability the same under the full cache
     * @param recallAccuracy        share of probes whose name tokens all rank first under the policy
     * @param fullRecallAccuracy    the same under the full cache
     * @param scoredTokens          tokens scored for perplexity, agreement and KL
     * @param guardrailMoves        heads the quality guardrail had moved by the end of a chunk, mean over chunks
     * @param rereadPerplexity      perplexity of the second turns re-reading the first under the policy
     * @param fullRereadPerplexity  the same under the full cache
     * @param rereadTop1Agreement   top-1 agreement with the full cache over the second turns
     * @param rereadMeanKl          mean KL(full || policy) over the second turns, in nats
     * @param rereadTokens          second-turn tokens scored
     */
    public record Report(java.util.Map<String, String> policy, double memoryRatio, long bytesHeld, long fullBytes,
                         double perplexity, double fullPerplexity, double top1Agreement, double meanKl,
                         double greedyMatch, int greedyTokens, double recallProbability, double fullRecallProbability,
                         double recallAccuracy, double fullRecallAccuracy, int scoredTokens, double guardrailMoves,
                         double rereadPerplexity, double fullRereadPerplexity, double rereadTop1Agreement,
                         double rereadMeanKl, int rereadTokens) {
    }

    private final Model model;
    private final ForwardPass transformer;
    private final Tokenizer tokenizer;
    private final TokenClasses classes;
    private final int vocabulary;

    public KvQuality(Model model, ForwardPass transformer) {
        this.model = model;
        this.transformer = transformer;
        this.tokenizer = model.tokenizer();
        this.classes = TokenClasses.of(tokenizer);
        this.vocabulary = model.config().vocabularySize();
    }

    public Report evaluate(String text, KvCacheConfig policy, Settings settings) {
        int context = settings.context();
        if (context < 8 || context > model.config().contextLength()) {
            throw new IllegalArgumentException("context must be from 8 to the model's " + model.config().contextLength()
                    + " tokens, got " + context);
        }
        int[] tokens = tokenizer.encode(text, true, false);
        int chunks = Math.min(settings.chunks(), tokens.length / context);
        if (chunks == 0) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens, fewer than one chunk of " + context);
        }
        Scores scores = new Scores();
        double ratioSum = 0;
        double movesSum = 0;
        KvMemoryReport last = null;
        double greedySum = 0;
        for (int c = 0; c < chunks; c++) {
            int[] chunk = new int[context];
            System.arraycopy(tokens, c * context, chunk, 0, context);
            if (tokenizer.addsBos()) {
                chunk[0] = tokenizer.bosId();
            }
            last = teacherForced(chunk, context / 2, policy, scores, null);
            ratioSum += last.ratio();
            movesSum += last.guardrailMoves();
            greedySum += greedyPrefix(chunk, context / 2, policy, settings.greedyTokens());
        }
        Scores reread = new Scores();
        for (int c = 0; c < Math.min(settings.rereads(), chunks); c++) {
            teacherForced(rereadDocument(tokens, c, context), context / 2, policy, reread, null);
        }
        Recall recall = new Recall();
        for (int r = 0; r < settings.recallProbes(); r++) {
            int[] document = recallDocument(tokens, r, context, recall);
            teacherForced(document, context / 2, policy, null, recall);
        }
        return new Report(policy.describe(), ratioSum / chunks, last.bytesHeld(), last.fullBytes(),
                Math.exp(scores.nll / scores.count), Math.exp(scores.fullNll / scores.count),
                (double) scores.agree / scores.count, scores.kl / scores.count, greedySum / chunks,
                settings.greedyTokens(), recall.probes == 0 ? Double.NaN : recall.probability / recall.probes,
                recall.probes == 0 ? Double.NaN : recall.fullProbability / recall.probes,
                recall.probes == 0 ? Double.NaN : (double) recall.correct / recall.probes,
                recall.probes == 0 ? Double.NaN : (double) recall.fullCorrect / recall.probes, scores.count,
                movesSum / chunks, reread.perplexity(), reread.fullPerplexity(), reread.agreement(), reread.meanKl(),
                reread.count);
    }

    /**
     * Chunk {@code c}'s first half (the first turn, BOS first where the model adds one), then its
     * text again from the first token after BOS (the second turn re-reading it), as long as the
     * first half less one token, so the document fits a chunk.
     */
    private int[] rereadDocument(int[] tokens, int c, int context) {
        int first = context / 2;
        int[] document = new int[first + first - 1];
        System.arraycopy(tokens, c * context, document, 0, first);
        if (tokenizer.addsBos()) {
            document[0] = tokenizer.bosId();
        }
        System.arraycopy(document, 1, document, first, first - 1);
        return document;
    }

    private static final class Scores {
        double nll;
        double fullNll;
        double kl;
        int agree;
        int count;

        double perplexity() {
            return count == 0 ? Double.NaN : Math.exp(nll / count);
        }

        double fullPerplexity() {
            return count == 0 ? Double.NaN : Math.exp(fullNll / count);
        }

        double agreement() {
            return count == 0 ? Double.NaN : (double) agree / count;
        }

        double meanKl() {
            return count == 0 ? Double.NaN : kl / count;
        }
    }

    private static final class Recall {
        /** Where the recalled name starts in the current document. */
        int nameStart;
        boolean allFirst;
        boolean fullAllFirst;
        double probability;
        double fullProbability;
        int correct;
        int fullCorrect;
        int probes;
    }

    private Sequence cache(KvCacheConfig policy, int length) {
        return transformer.newSequence(length, policy, classes);
    }

    /**
     * Prefills {@code tokens[0, prompt)} into a full and a policy cache, then feeds the rest one
     * token at a time, scoring each next-token prediction into {@code scores} or the recall probe.
     */
    private KvMemoryReport teacherForced(int[] tokens, int prompt, KvCacheConfig policy, Scores scores, Recall recall) {
        Sequence full = cache(KvCacheConfig.full(), tokens.length);
        Sequence compressed = cache(policy, tokens.length);
        float[] fullLogits = transformer.forward(full, tokens, 0, prompt, ForwardPass.Logits.LAST);
        float[] logits = transformer.forward(compressed, tokens, 0, prompt, ForwardPass.Logits.LAST);
        for (int next = prompt; next < tokens.length; next++) {
            double[] p = LogSoftmax.of(logits);
            double[] q = LogSoftmax.of(fullLogits);
            int target = tokens[next];
            if (scores != null) {
                scores.nll -= p[target];
                scores.fullNll -= q[target];
                double kl = 0;
                for (int i = 0; i < vocabulary; i++) {
                    kl += Math.exp(q[i]) * (q[i] - p[i]);
                }
                scores.kl += kl;
                scores.agree += Sampler.argmax(logits, 0, vocabulary) == Sampler.argmax(fullLogits, 0, vocabulary) ? 1 : 0;
                scores.count++;
            } else if (next >= recall.nameStart) {
                if (next == recall.nameStart) {
                    recall.probability += Math.exp(p[target]);
                    recall.fullProbability += Math.exp(q[target]);
                    recall.allFirst = true;
                    recall.fullAllFirst = true;
                }
                recall.allFirst &= Sampler.argmax(logits, 0, vocabulary) == target;
                recall.fullAllFirst &= Sampler.argmax(fullLogits, 0, vocabulary) == target;
            }
            if (next == tokens.length - 1) {
                break;
            }
            fullLogits = transformer.forward(full, tokens, next, 1, ForwardPass.Logits.LAST);
            logits = transformer.forward(compressed, tokens, next, 1, ForwardPass.Logits.LAST);
        }
        if (recall != null) {
            recall.probes++;
            recall.correct += recall.allFirst ? 1 : 0;
            recall.fullCorrect += recall.fullAllFirst ? 1 : 0;
        }
        return compressed.memory();
    }

    /** Common prefix of the greedy continuations of {@code tokens[0, prompt)} under both caches. */
    private int greedyPrefix(int[] tokens, int prompt, KvCacheConfig policy, int count) {
        int length = Math.min(prompt + count, model.config().contextLength());
        int[] fullIds = greedy(cache(KvCacheConfig.full(), length), tokens, prompt, length - prompt);
        int[] ids = greedy(cache(policy, length), tokens, prompt, length - prompt);
        int same = 0;
        while (same < ids.length && ids[same] == fullIds[same]) {
            same++;
        }
        return same;
    }

    private int[] greedy(Sequence cache, int[] tokens, int prompt, int count) {
        int[] out = new int[count];
        float[] logits = transformer.forward(cache, tokens, 0, prompt, ForwardPass.Logits.LAST);
        for (int i = 0; i < count; i++) {
            out[i] = Sampler.argmax(logits, 0, logits.length);
            if (i + 1 < count) {
                logits = transformer.forward(cache, out, i, 1, ForwardPass.Logits.LAST);
            }
        }
        return out;
    }

    /**
     * "[BOS] Once upon a time there was a girl named N." + text tokens + " N": as long as
     * {@code context}, the text taken from a different place of the token stream for each probe.
     */
    private int[] recallDocument(int[] textTokens, int probe, int context, Recall recall) {
        String name = NAMES[probe % NAMES.length];
        int[] intro = tokenizer.encode("Once upon a time there was a girl named " + name + ".", true, false);
        int[] ending = tokenizer.encode(" " + name, false, false);
        int filler = context - intro.length - ending.length;
        if (filler < 1) {
            throw new IllegalArgumentException("context " + context + " is too short for a recall probe");
        }
        List<Integer> ids = new ArrayList<>();
        for (int id : intro) {
            ids.add(id);
        }
        int from = (probe * 7919) % Math.max(1, textTokens.length - filler);
        for (int i = 0; i < filler; i++) {
            ids.add(textTokens[(from + i) % textTokens.length]);
        }
        recall.nameStart = ids.size();
        for (int id : ending) {
            ids.add(id);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
