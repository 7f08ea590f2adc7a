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
    QWEN3("qwen3", RopeStyle.HALVES);

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
                        + "' is not supported (supported: llama, qwen2, qwen3)"));
    }
}
