package io.kvcache.core.kv;

import io.kvcache.core.SharedData;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.model.Architecture;
import io.kvcache.core.model.Model;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.core.model.RopeStyle;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The token ids of a sequence apart from its storage, and a cache that truncates both together. */
class TokenSequenceTest {
    @Test
    void tokensGrowToTheCapacityAndTruncateBack() {
        TokenSequence sequence = new TokenSequence(300);
        for (int t = 0; t < 300; t++) {
            sequence.advance(t * 7);
        }
        assertThat(sequence.length()).isEqualTo(300);
        assertThat(sequence.token(299)).isEqualTo(299 * 7);
        assertThatThrownBy(() -> sequence.advance(1)).hasMessageContaining("full at 300");
        sequence.truncate(10);
        assertThat(sequence.length()).isEqualTo(10);
        assertThatThrownBy(() -> sequence.token(10)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> sequence.truncate(11)).hasMessageContaining("cannot truncate");
        assertThatThrownBy(() -> new TokenSequence(0)).hasMessageContaining("at least one token");
    }

    @Test
    void aCacheTruncatesItsTokensAndEntriesTogether() {
        ModelConfig config = new ModelConfig("test", Architecture.LLAMA, 16, 1, 1, 1, 4, 4, 32, 16, 64, 1e-5f, 10000f, 4,
                RopeStyle.INTERLEAVED);
        KvCache cache = new KvCache(config, 64);
        float[] row = {1, 2, 3, 4};
        for (int p = 0; p < 6; p++) {
            cache.advance(p);
            cache.head(0, 0).append(p, row, 0, row, 0);
        }
        cache.truncate(2);
        assertThat(cache.tokens().length()).isEqualTo(2);
        assertThat(cache.head(0, 0).size()).isEqualTo(2);
        assertThat(cache.memory().heads().getFirst().entries()).isEqualTo(2);
    }

    /** A copy continues apart from its original: each holds what the same prompt and its own continuation give. */
    @Test
    void aCopiedCacheContinuesIndependentlyOfItsOriginal() {
        try (Model model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
             ComputePool pool = new ComputePool(2)) {
            ForwardPass pass = new CpuForwardPass(model, pool);
            int[] prompt = model.tokenizer().encode("Once upon a time there was a little dog.", true, false);
            for (KvCacheConfig config : new KvCacheConfig[] {KvCacheConfig.full(),
                    KvCacheConfig.of(MixedPrecisionPolicy.DEFAULT), KvCacheConfig.of(SpanPolicy.DEFAULT.withRecent(2).withLength(2))}) {
                KvCache original = new KvCache(model.config(), 64, config, TokenClasses.of(model.tokenizer()));
                pass.forward(original, prompt, 0, prompt.length, ForwardPass.Logits.LAST);
                KvCache copy = original.copy();
                assertThat(copy.memory()).as(config.name()).isEqualTo(original.memory());
                float[] fromCopy = pass.forward(copy, new int[] {42}, 0, 1, ForwardPass.Logits.LAST);
                assertThat(original.length()).as("the original is untouched").isEqualTo(prompt.length);
                float[] fromOriginal = pass.forward(original, new int[] {42}, 0, 1, ForwardPass.Logits.LAST);
                assertThat(fromCopy).as(config.name() + ": the same continuation from the copy").containsExactly(fromOriginal);
                pass.forward(copy, new int[] {7, 8}, 0, 2, ForwardPass.Logits.LAST);
                assertThat(copy.length()).isEqualTo(prompt.length + 3);
                assertThat(original.length()).isEqualTo(prompt.length + 1);
            }
        }
    }

    @Test
    void theCpuForwardPassRefusesASequenceItDidNotMake() {
        Sequence foreign = new Sequence() {
            private final TokenSequence tokens = new TokenSequence(8);

            @Override
            public TokenSequence tokens() {
                return tokens;
            }

            @Override
            public KvCacheConfig config() {
                return KvCacheConfig.full();
            }

            @Override
            public void truncate(int position) {
                tokens.truncate(position);
            }

            @Override
            public Sequence copy() {
                throw new UnsupportedOperationException();
            }

            @Override
            public KvMemoryReport memory() {
                return KvMemoryReport.of(tokens.length(), java.util.List.of());
            }
        };
        try (Model model = Model.load(SharedData.require("models/tiny/stories260K.gguf"));
             ComputePool pool = new ComputePool(1)) {
            ForwardPass pass = new CpuForwardPass(model, pool);
            assertThatThrownBy(() -> pass.forward(foreign, new int[] {1}, 0, 1, ForwardPass.Logits.LAST))
                    .hasMessageContaining("sequences it made");
            assertThat(pass.newSequence(8, KvCacheConfig.full(), TokenClasses.ordinary(model.config().vocabularySize())))
                    .isInstanceOf(KvCache.class);
        }
    }
}
