package io.kvcache.core.grammar;

import io.kvcache.core.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** Text sampled under a constraint from random logits, as a random-weight model would write it. */
public final class RandomConstrainedText {
    private final Tokenizer tokenizer;
    private final float[] gaussians;

    public RandomConstrainedText(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        SplittableRandom random = new SplittableRandom(7);
        gaussians = new float[tokenizer.vocabularySize()];
        for (int i = 0; i < gaussians.length; i++) {
            gaussians[i] = (float) (random.nextGaussian() * 3);
        }
    }

    /**
     * Samples under the constraint at temperature 1 from random logits (a fixed Gaussian draw per
     * token, rotated by a random amount each step) until the document ends or the tokens run out.
     */
    public String generate(TokenGrammar tokens, SplittableRandom random, int maxTokens) {
        TokenConstraint constraint = tokens.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        float[] logits = new float[gaussians.length];
        for (int step = 0; step < maxTokens && !constraint.isComplete(); step++) {
            int shift = random.nextInt(logits.length);
            System.arraycopy(gaussians, shift, logits, 0, logits.length - shift);
            System.arraycopy(gaussians, 0, logits, logits.length - shift, shift);
            constraint.mask(logits, 0, logits.length, maxTokens - step);
            int token = sample(logits, random);
            constraint.accept(token);
            if (tokenizer.isEndOfGeneration(token)) {
                break;
            }
            out.writeBytes(tokenizer.tokenBytes(token));
        }
        assertThat(constraint.isAccepting()).as("whole after %d tokens: %s", maxTokens, out).isTrue();
        return out.toString(StandardCharsets.UTF_8);
    }

    /** A draw from the softmax of {@code logits} (masked ones are minus infinity). */
    private static int sample(float[] logits, SplittableRandom random) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double u = random.nextDouble() * sum;
        int last = -1;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] != Float.NEGATIVE_INFINITY) {
                u -= Math.exp(logits[i] - max);
                last = i;
                if (u < 0) {
                    return i;
                }
            }
        }
        return last;
    }
}
