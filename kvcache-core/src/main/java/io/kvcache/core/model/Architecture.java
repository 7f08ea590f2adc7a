package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;

import java.util.Arrays;

/** The model families kvcache runs, named as in GGUF's {@code general.architecture}. */
public enum Architecture {
    /** Llama 2/3, TinyLlama, SmolLM, Mistral: the plain pre-norm transformer. */
    LLAMA("llama", RopeStyle.INTERLEAVED),
    /** Qwen 2 / 2.5: biases on the q, k and v projections. */
    QWEN2("qwen2", RopeStyle.HALVES),
    /** Qwen 3: RMSNorm of every q and k head before RoPE. */
    QWEN3("qwen3", RopeStyle.HALVES),
    /**
     * Gemma 2: scaled embedding, GeGLU, norms after attention and feed-forward too, attention and
     * final logit soft-capping, every other layer a sliding window.
     */
    GEMMA2("gemma2", RopeStyle.HALVES),
    /** Gemma 3: as Gemma 2 with q/k norms instead of attention soft-capping, five sliding layers in six with their own RoPE base. */
    GEMMA3("gemma3", RopeStyle.HALVES),
    /**
     * Gemma 4 (small text models): as Gemma 3 with per-layer inputs, narrower sliding heads, partly
     * rotated global heads, normalized values, and its last layers reusing earlier layers' keys and values.
     */
    GEMMA4("gemma4", RopeStyle.HALVES),
    /** Granite 3 (dense): the Llama block with embedding, attention, residual and logit multipliers. */
    GRANITE("granite", RopeStyle.INTERLEAVED),
    /** Phi 3 / 3.5 / 4-mini: fused q/k/v and gate/up projections, LongRoPE factors. */
    PHI3("phi3", RopeStyle.HALVES),
    /** SmolLM3: the Llama block with every fourth layer unrotated (NoPE). */
    SMOLLM3("smollm3", RopeStyle.INTERLEAVED),
    /** Ministral 3 / Mistral Small 3.x text models: the Llama block with YaRN RoPE and query temperature by position. */
    MISTRAL3("mistral3", RopeStyle.INTERLEAVED);

    private final String ggufName;
    private final RopeStyle ggufRopeStyle;

    Architecture(String ggufName, RopeStyle ggufRopeStyle) {
        this.ggufName = ggufName;
        this.ggufRopeStyle = ggufRopeStyle;
    }

    public String ggufName() {
        return ggufName;
    }

    /** How GGUF files of this family lay out the rotated pairs of q and k. */
    public RopeStyle ggufRopeStyle() {
        return ggufRopeStyle;
    }

    public static Architecture fromGguf(String name, String source) {
        return Arrays.stream(values()).filter(a -> a.ggufName.equals(name)).findFirst()
                .orElseThrow(() -> new ModelFormatException(source + ": architecture '" + UntrustedText.quote(name)
                        + "' is not supported (supported: " + supported() + ")"));
    }

    /** The GGUF names of every family kvcache runs, comma-separated. */
    public static String supported() {
        return String.join(", ", Arrays.stream(values()).map(Architecture::ggufName).toList());
    }
}
