package io.kvcache.core.tokenizer;

import java.util.Set;

/** The token texts llama.cpp treats as end of generation (and therefore as control tokens) wherever they occur. */
final class EndOfGeneration {
    private static final Set<String> MARKERS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<｜end▁of▁sentence｜>", "[e~[");

    private EndOfGeneration() {
    }

    static boolean isMarker(String tokenText) {
        return MARKERS.contains(tokenText);
    }
}
