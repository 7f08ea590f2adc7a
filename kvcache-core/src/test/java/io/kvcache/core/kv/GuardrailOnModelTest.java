package io.kvcache.core.kv;

import io.kvcache.core.TinyStoriesOnCpu;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.model.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The guardrail on TinyStories-656K (2 layers of 4 KV heads) decoding real text. */
class GuardrailOnModelTest {
    private static final int PROMPT = 60;
    private static TinyStoriesOnCpu tiny;
    private static Model model;
    private static CpuForwardPass transformer;
    private static TokenClasses classes;
    private static int[] text;

    @BeforeAll
    static void load() throws Exception {
        tiny = TinyStoriesOnCpu.open();
        model = tiny.model();
        transformer = tiny.forwardPass();
        classes = tiny.classes();
        text = tiny.text();
    }

    @AfterAll
    static void close() {
        tiny.close();
    }

    private static KvCache window(String threshold) {
        return new KvCache(model.config(), 256, KvCacheConfig.parse("window", Map.of("window.recent", "16",
                "guardrail.enabled", "true", "guardrail.threshold", threshold, "guardrail.max-heads", "1")), classes);
    }

    /**
     * At threshold 0 every head of a window moves after the warm-up (the oldest recent entry always
     * draws some attention): from then on the cache must be, logit for logit and byte for byte, the
     * window cache that never moves (threshold 1) whose heads were all switched to keeping
     * everything before that same call.
     */
    @Test
    void aMovedHeadContinuesExactlyAsAHeadKeepingEverythingItHeld() {
        KvCache guarded = window("0");
        KvCache reference = window("1");
        transformer.forward(guarded, text, 0, PROMPT, ForwardPass.Logits.LAST);
        transformer.forward(reference, text, 0, PROMPT, ForwardPass.Logits.LAST);
        for (int i = PROMPT; i < PROMPT + 40; i++) {
            if (i == PROMPT + Guardrail.WARMUP - 1) {
                assertThat(guarded.memory().guardrailMoves()).isZero();
                for (int layer = 0; layer < reference.layers(); layer++) {
                    for (int h = 0; h < reference.kvHeads(); h++) {
                        reference.setHeadPolicy(layer, h, Guardrail.MOVED);
                    }
                }
            }
            float[] expected = transformer.forward(reference, text, i, 1, ForwardPass.Logits.LAST);
            float[] actual = transformer.forward(guarded, text, i, 1, ForwardPass.Logits.LAST);
            assertThat(actual).as("step " + i).containsExactly(expected);
        }
        assertThat(guarded.memory().guardrailMoves()).isEqualTo(8);
        assertThat(guarded.memory().heads()).isEqualTo(reference.memory().heads());
        // every head now holds its sinks, its window at the move and every token since
        assertThat(guarded.memory().heads()).allSatisfy(head -> assertThat(head.entries()).isEqualTo(4 + 16 + 33));
        for (int layer = 0; layer < guarded.layers(); layer++) {
            for (int h = 0; h < guarded.kvHeads(); h++) {
                assertThat(guarded.exposure(layer, h)).as("watched until it moved").isPositive();
                assertThat(guarded.watchedCalls(layer, h)).isEqualTo(Guardrail.WARMUP);
            }
        }
    }

    /**
     * Where no head's exposure passes the threshold, the guarded cache holds what the unguarded one
     * holds; its logits differ only by the float softmax that reads each entry's attention (the
     * unguarded window attends in fp16 tiles): by up to 0.011 on this model, hence 2e-2.
     */
    @Test
    void unmovedHeadsCompressAsWithoutTheGuardrail() {
        KvCache guarded = window("1");
        KvCache plain = new KvCache(model.config(), 256, KvCacheConfig.parse("window", Map.of("window.recent", "16")), classes);
        transformer.forward(guarded, text, 0, PROMPT, ForwardPass.Logits.LAST);
        transformer.forward(plain, text, 0, PROMPT, ForwardPass.Logits.LAST);
        for (int i = PROMPT; i < PROMPT + 20; i++) {
            float[] expected = transformer.forward(plain, text, i, 1, ForwardPass.Logits.LAST);
            float[] actual = transformer.forward(guarded, text, i, 1, ForwardPass.Logits.LAST);
            for (int t = 0; t < expected.length; t++) {
                assertThat(actual[t]).as("step " + i + " token " + t).isCloseTo(expected[t],
                        org.assertj.core.api.Assertions.within(2e-2f));
            }
        }
        assertThat(guarded.memory().guardrailMoves()).isZero();
        assertThat(guarded.memory().heads()).extracting(HeadMemory::entries)
                .isEqualTo(plain.memory().heads().stream().map(HeadMemory::entries).toList());
    }
}
