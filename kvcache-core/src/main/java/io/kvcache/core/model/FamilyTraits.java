package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.format.GgufMetadata;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads a GGUF file's {@link ModelTraits}: the metadata each family's llama.cpp loader reads, with
 * the defaults it assumes where a key is absent.
 */
final class FamilyTraits {
    /** Layer counts of Gemma 2 27B and Gemma 3 27B, whose queries llama.cpp scales by 1/sqrt(dim / heads). */
    private static final int GEMMA2_27B_LAYERS = 46;
    private static final int GEMMA3_27B_LAYERS = 62;
    /** Gemma 2's window and attention/final soft caps when the file does not say. */
    private static final int GEMMA2_WINDOW = 4096;
    private static final float GEMMA2_ATTENTION_CAP = 50f;
    private static final float GEMMA2_FINAL_CAP = 30f;
    /** Every n-th layer is global, the others slide (Gemma 2: 2, Gemma 3: 6), unless the file says. */
    private static final int GEMMA2_PATTERN = 2;
    private static final int GEMMA3_PATTERN = 6;
    /** RoPE base of Gemma 3's sliding layers when the file has no rope.freq_base_swa. */
    private static final float GEMMA3_SLIDING_BASE = 10000f;
    /** SmolLM3 leaves every fourth layer without RoPE. */
    private static final int SMOLLM3_NOPE_STEP = 4;

    private FamilyTraits() {
    }

    static ModelTraits read(Architecture arch, GgufMetadata md, int layers, int dim, int heads, int headDim, int valueDim,
                            int ropeDims, float ropeBase, int contextLength, String source) {
        String p = arch.ggufName() + ".";
        float ropeScale = ropeScale(md, p, source);
        float ropeAttentionFactor = positive(md.floatOr(p + "rope.scaling.attn_factor", 1f), "rope.scaling.attn_factor", source);
        int yarnContext = md.intOr(p + "rope.scaling.original_context_length", contextLength);
        YarnRope yarn = null;
        QueryTemperature queryTemperature = null;
        if (ropeScale != 1f && md.string(p + "rope.scaling.type").orElse("").equals("yarn")) {
            require(yarnContext > 0, source, "rope.scaling.original_context_length " + yarnContext + " must be positive");
            // llama.cpp reads the betas and the log multiplier only for some families (here Mistral 3).
            boolean fromFile = arch == Architecture.MISTRAL3;
            yarn = new YarnRope(
                    positive(fromFile ? md.floatOr(p + "rope.scaling.yarn_beta_fast", YarnRope.DEFAULT_BETA_FAST) : YarnRope.DEFAULT_BETA_FAST,
                            "rope.scaling.yarn_beta_fast", source),
                    positive(fromFile ? md.floatOr(p + "rope.scaling.yarn_beta_slow", YarnRope.DEFAULT_BETA_SLOW) : YarnRope.DEFAULT_BETA_SLOW,
                            "rope.scaling.yarn_beta_slow", source),
                    yarnContext);
            float logMultiplier = fromFile ? md.floatOr(p + "rope.scaling.yarn_log_multiplier", 0f) : 0f;
            require(Float.isFinite(logMultiplier), source, "rope.scaling.yarn_log_multiplier " + logMultiplier + " is not finite");
            ropeAttentionFactor = YarnRope.attentionFactor(ropeScale, logMultiplier, ropeAttentionFactor);
        }
        ModelTraits plain = ModelTraits.plain(layers, headDim, valueDim, ropeDims, ropeBase);
        List<LayerAttention> global = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            global.add(new LayerAttention(0, true, ropeBase, ropeScale, headDim, valueDim, ropeDims, true));
        }
        float embedding = plain.embeddingScale();
        float query = plain.queryScale();
        float attention = plain.attentionScale();
        float attentionCap = 0f;
        float residual = 1f;
        float logit = 1f;
        float finalCap = 0f;
        Activation activation = Activation.SILU;
        int originalContext = 0;
        boolean valueNorm = false;
        int perLayerInput = 0;
        List<LayerAttention> perLayer = global;
        switch (arch) {
            case LLAMA, QWEN2, QWEN3 -> {
            }
            case MISTRAL3 -> {
                float temperature = md.floatOr(p + "attention.temperature_scale", 0f);
                if (temperature != 0f) {
                    require(Float.isFinite(temperature), source, "attention.temperature_scale " + temperature + " is not finite");
                    require(yarnContext > 0, source, "attention temperature needs a positive original context, not " + yarnContext);
                    queryTemperature = new QueryTemperature(temperature, yarnContext);
                }
            }
            case GEMMA2, GEMMA3 -> {
                boolean gemma2 = arch == Architecture.GEMMA2;
                embedding = (float) Math.sqrt(dim);
                int bigLayers = gemma2 ? GEMMA2_27B_LAYERS : GEMMA3_27B_LAYERS;
                query = 1f / (float) Math.sqrt(layers == bigLayers ? dim / heads : headDim);
                attention = 1f;
                activation = Activation.GELU;
                finalCap = md.floatOr(p + "final_logit_softcapping", gemma2 ? GEMMA2_FINAL_CAP : 0f);
                if (gemma2) {
                    attentionCap = md.floatOr(p + "attn_logit_softcapping", GEMMA2_ATTENTION_CAP);
                }
                int window = md.intOr(p + "attention.sliding_window", gemma2 ? GEMMA2_WINDOW : 0);
                if (gemma2 || window > 0) {
                    if (window <= 0) {
                        throw new ModelFormatException(source + ": sliding window " + window + " must be positive");
                    }
                    boolean[] sliding = slidingPattern(md, p, layers, gemma2 ? GEMMA2_PATTERN : GEMMA3_PATTERN, source);
                    float slidingBase = md.floatOr(p + "rope.freq_base_swa", gemma2 ? ropeBase : GEMMA3_SLIDING_BASE);
                    // Gemma 3's sliding layers keep unscaled RoPE; Gemma 2 scales them as its global ones.
                    float slidingScale = gemma2 ? ropeScale : 1f;
                    perLayer = new ArrayList<>();
                    for (int i = 0; i < layers; i++) {
                        perLayer.add(sliding[i] ? global.get(i).sliding(window, slidingBase, slidingScale) : global.get(i));
                    }
                }
            }
            case GEMMA4 -> {
                embedding = (float) Math.sqrt(dim);
                // llama.cpp scales neither queries nor scores: the q/k norms set their size
                query = 1f;
                attention = 1f;
                activation = Activation.GELU;
                finalCap = md.floatOr(p + "final_logit_softcapping", 0f);
                valueNorm = true;
                perLayerInput = md.requireInt(p + "embedding_length_per_layer_input");
                require(perLayerInput >= 0 && perLayerInput <= ModelChecks.MAX_WIDTH, source,
                        "embedding_length_per_layer_input " + perLayerInput + " is out of range");
                int window = md.requireInt(p + "attention.sliding_window");
                require(window > 0, source, "sliding window " + window + " must be positive");
                Object pattern = md.get(p + "attention.sliding_window_pattern").orElse(null);
                require(pattern instanceof boolean[] flags && flags.length == layers, source,
                        "gemma4 needs '" + p + "attention.sliding_window_pattern' as one boolean per layer");
                boolean[] sliding = (boolean[]) pattern;
                int slidingHead = md.requireInt(p + "attention.key_length_swa");
                int slidingValue = md.requireInt(p + "attention.value_length_swa");
                require(slidingHead == slidingValue && headDim == valueDim, source, "gemma4 needs equal key and value widths, not "
                        + headDim + "/" + valueDim + " (global) and " + slidingHead + "/" + slidingValue + " (sliding)");
                require(slidingHead > 0 && slidingHead <= headDim, source,
                        "sliding key width " + slidingHead + " must be positive and at most the global one " + headDim);
                int slidingRope = md.intOr(p + "rope.dimension_count_swa", ropeDims);
                float slidingBase = md.floatOr(p + "rope.freq_base_swa", GEMMA3_SLIDING_BASE);
                perLayer = new ArrayList<>();
                for (int i = 0; i < layers; i++) {
                    // the model's frequency factors ("proportional" RoPE) belong to the global layers only
                    perLayer.add(sliding[i]
                            ? new LayerAttention(window, true, slidingBase, 1f, slidingHead, slidingValue, slidingRope, false)
                            : global.get(i));
                }
            }
            case GRANITE -> {
                float e = md.floatOr(p + "embedding_scale", 0f);
                embedding = e == 0f ? 1f : e;
                float r = md.floatOr(p + "residual_scale", 0f);
                residual = r == 0f ? 1f : r;
                float l = md.real(p + "logit_scale").orElseThrow(() -> new ModelFormatException(
                        source + ": granite needs metadata '" + p + "logit_scale'")).floatValue();
                logit = 1f / positive(l, "logit_scale", source);
                float a = md.floatOr(p + "attention.scale", 0f);
                attention = a == 0f ? attention : a;
                // Granite uses rope.scaling.finetuned to switch RoPE off in every layer.
                if (!md.booleanOr(p + "rope.scaling.finetuned", true)) {
                    perLayer = global.stream().map(LayerAttention::unrotated).toList();
                }
            }
            case PHI3 -> {
                query = 1f / (float) Math.sqrt(headDim);
                attention = 1f;
                // llama.cpp ignores Phi 3's sliding_window (its SWA is disabled), so every layer is global.
                originalContext = md.intOr(p + "rope.scaling.original_context_length", contextLength);
            }
            case SMOLLM3 -> {
                perLayer = new ArrayList<>();
                for (int i = 0; i < layers; i++) {
                    LayerAttention l = global.get(i);
                    perLayer.add((i + 1) % SMOLLM3_NOPE_STEP == 0 ? l.unrotated() : l);
                }
            }
        }
        require(Float.isFinite(embedding) && Float.isFinite(query) && Float.isFinite(attention) && Float.isFinite(residual)
                && Float.isFinite(logit), source, "a scale factor in the metadata is not finite");
        require(attentionCap >= 0 && Float.isFinite(attentionCap) && finalCap >= 0 && Float.isFinite(finalCap), source,
                "soft-capping values must be finite and not negative");
        return new ModelTraits(embedding, query, attention, attentionCap, residual, logit, finalCap, activation,
                ropeAttentionFactor, originalContext, yarn, queryTemperature, valueNorm, perLayerInput, perLayer);
    }

    /**
     * Gemma 4's shared keys and values: the last {@code attention.shared_kv_layers} layers compute
     * none and attend to those of an earlier layer, as llama.cpp assigns them: a sliding layer to the
     * second-to-last layer that computes its own, a global layer to the last. Every other family:
     * each layer its own.
     */
    static List<Integer> kvLayers(Architecture arch, GgufMetadata md, ModelTraits traits, int layers, String source) {
        List<Integer> own = java.util.stream.IntStream.range(0, layers).boxed().toList();
        if (arch != Architecture.GEMMA4) {
            return own;
        }
        int shared = md.intOr(arch.ggufName() + ".attention.shared_kv_layers", 0);
        require(shared >= 0 && shared <= layers - 2, source, "attention.shared_kv_layers " + shared
                + " must leave at least two of the " + layers + " layers computing their own keys and values");
        int first = layers - shared;
        List<Integer> kvLayers = new ArrayList<>(own);
        for (int i = first; i < layers; i++) {
            int target = first - (traits.layer(i).sliding() ? 2 : 1);
            LayerAttention mine = traits.layer(i);
            LayerAttention theirs = traits.layer(target);
            require(mine.window() == theirs.window() && mine.headDim() == theirs.headDim(), source, "layer " + i
                    + " would reuse the keys and values of layer " + target + ", which is not of its kind (window "
                    + theirs.window() + " against " + mine.window() + ", head width " + theirs.headDim() + " against "
                    + mine.headDim() + ")");
            kvLayers.set(i, target);
        }
        return kvLayers;
    }

    /**
     * RoPE's angle factor: 1 / the scaling factor of linear or YaRN scaling (llama.cpp reads the
     * factor whatever the type says, and applies it unless the type is "none"); other scaling types
     * are refused.
     */
    private static float ropeScale(GgufMetadata md, String p, String source) {
        String type = md.string(p + "rope.scaling.type").orElse("linear");
        float factor = md.floatOr(p + "rope.scaling.factor", md.floatOr(p + "rope.scale_linear", 0f));
        if (factor == 0f || factor == 1f || type.equals("none")) {
            return 1f;
        }
        if (!type.equals("linear") && !type.equals("yarn")) {
            throw new ModelFormatException(source + ": RoPE scaling '" + UntrustedText.quote(type) + "' (factor " + factor
                    + ") is not supported; only unscaled, linear and YaRN scaling, Llama 3.1 frequency factors and LongRoPE are");
        }
        return 1f / positive(factor, "rope.scaling.factor", source);
    }

    /**
     * Which layers slide: the file's per-layer booleans, or every layer but each n-th (n from the
     * file or the family's default; 0 makes every layer slide), as llama.cpp sets its pattern.
     */
    private static boolean[] slidingPattern(GgufMetadata md, String p, int layers, int defaultPattern, String source) {
        String key = p + "attention.sliding_window_pattern";
        Object value = md.get(key).orElse(null);
        boolean[] sliding = new boolean[layers];
        if (value instanceof boolean[] flags) {
            require(flags.length == layers, source, "'" + key + "' has " + flags.length + " entries for " + layers + " layers");
            return flags.clone();
        }
        int n = md.intOr(key, defaultPattern);
        require(n >= 0, source, "'" + key + "' is " + n);
        for (int i = 0; i < layers; i++) {
            sliding[i] = n == 0 || i % n < n - 1;
        }
        return sliding;
    }

    private static float positive(float value, String what, String source) {
        require(Float.isFinite(value) && value > 0, source, what + " " + value + " must be positive");
        return value;
    }

    private static void require(boolean ok, String source, String message) {
        if (!ok) {
            throw new ModelFormatException(source + ": " + message);
        }
    }
}
