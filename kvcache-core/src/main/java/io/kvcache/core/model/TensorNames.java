package io.kvcache.core.model;

import java.util.Map;

import static java.util.Map.entry;

/**
 * Where a model's weights lie in one file format: the table of tensor names that
 * {@link ModelWeightsReader} reads every format by. A name the format does not have is absent from
 * the table, and the weight is then never read from it.
 *
 * @param tokenEmbedding        the token embedding
 * @param output                the unembedding; the embedding serves when the file has none (tied)
 * @param outputNorm            the final norm's gain
 * @param ropeFrequencies       Llama 3.1's frequency divisors, for every context
 * @param ropeFactorsShort      LongRoPE's short-context factors (Phi 3)
 * @param ropeFactorsLong       LongRoPE's long-context factors (Phi 3)
 * @param perLayerEmbedding     Gemma 4's per-layer token embedding (per token, every layer's input, layer after layer)
 * @param perLayerProjection    Gemma 4's projection of the embedding to the per-layer inputs
 * @param perLayerProjectionNorm the norm's gain of that projection, one layer's width
 * @param embeddingUnderOutput  whether a tied file may store the shared matrix under the output's name only
 * @param layerPrefix           what precedes a layer's index in its tensors' names
 * @param layerTensors          each layer tensor's name after the layer's prefix
 */
record TensorNames(String tokenEmbedding, String output, String outputNorm,
                   String ropeFrequencies, String ropeFactorsShort, String ropeFactorsLong,
                   String perLayerEmbedding, String perLayerProjection, String perLayerProjectionNorm,
                   boolean embeddingUnderOutput, String layerPrefix, Map<Layer, String> layerTensors) {

    /** The tensors of one transformer block, by role. */
    enum Layer {
        ATTENTION_NORM, QUERY, KEY, VALUE, ATTENTION_OUTPUT,
        /** The query rows, then the key rows, then the value rows, in one matrix (Phi 3). */
        FUSED_QUERY_KEY_VALUE,
        QUERY_BIAS, KEY_BIAS, VALUE_BIAS, QUERY_NORM, KEY_NORM, POST_ATTENTION_NORM,
        FFN_NORM, FFN_GATE, FFN_UP,
        /** The gate rows, then the up rows, in one matrix (Phi 3), read when the file has no gate of its own. */
        FUSED_FFN_GATE_UP,
        FFN_DOWN, POST_FFN_NORM,
        /** Gemma 4: the gate of the per-layer input, its projection back to the model's width, and that projection's norm. */
        PER_LAYER_GATE, PER_LAYER_PROJECTION, PER_LAYER_POST_NORM,
        /** Gemma 4: one factor on the layer's output. */
        OUTPUT_SCALE
    }

    /** llama.cpp's names. */
    static final TensorNames GGUF = new TensorNames("token_embd.weight", "output.weight", "output_norm.weight",
            "rope_freqs.weight", "rope_factors_short.weight", "rope_factors_long.weight", "per_layer_token_embd.weight",
            "per_layer_model_proj.weight", "per_layer_proj_norm.weight", false, "blk.", Map.ofEntries(
                    entry(Layer.ATTENTION_NORM, "attn_norm.weight"),
                    entry(Layer.QUERY, "attn_q.weight"),
                    entry(Layer.KEY, "attn_k.weight"),
                    entry(Layer.VALUE, "attn_v.weight"),
                    entry(Layer.ATTENTION_OUTPUT, "attn_output.weight"),
                    entry(Layer.FUSED_QUERY_KEY_VALUE, "attn_qkv.weight"),
                    entry(Layer.QUERY_BIAS, "attn_q.bias"),
                    entry(Layer.KEY_BIAS, "attn_k.bias"),
                    entry(Layer.VALUE_BIAS, "attn_v.bias"),
                    entry(Layer.QUERY_NORM, "attn_q_norm.weight"),
                    entry(Layer.KEY_NORM, "attn_k_norm.weight"),
                    entry(Layer.POST_ATTENTION_NORM, "post_attention_norm.weight"),
                    entry(Layer.FFN_NORM, "ffn_norm.weight"),
                    entry(Layer.FFN_GATE, "ffn_gate.weight"),
                    entry(Layer.FFN_UP, "ffn_up.weight"),
                    entry(Layer.FUSED_FFN_GATE_UP, "ffn_up.weight"),
                    entry(Layer.FFN_DOWN, "ffn_down.weight"),
                    entry(Layer.POST_FFN_NORM, "post_ffw_norm.weight"),
                    entry(Layer.PER_LAYER_GATE, "inp_gate.weight"),
                    entry(Layer.PER_LAYER_PROJECTION, "proj.weight"),
                    entry(Layer.PER_LAYER_POST_NORM, "post_norm.weight"),
                    entry(Layer.OUTPUT_SCALE, "layer_output_scale.weight")));

    /**
     * The transformers library's names for the Llama, Mistral and Qwen checkpoints it reads; its
     * {@code post_attention_layernorm} is the feed-forward's input norm, not a norm of the attention output.
     */
    static final TensorNames HUGGING_FACE = new TensorNames("model.embed_tokens.weight", "lm_head.weight",
            "model.norm.weight", null, null, null, null, null, null, true, "model.layers.", Map.ofEntries(
                    entry(Layer.ATTENTION_NORM, "input_layernorm.weight"),
                    entry(Layer.QUERY, "self_attn.q_proj.weight"),
                    entry(Layer.KEY, "self_attn.k_proj.weight"),
                    entry(Layer.VALUE, "self_attn.v_proj.weight"),
                    entry(Layer.ATTENTION_OUTPUT, "self_attn.o_proj.weight"),
                    entry(Layer.QUERY_BIAS, "self_attn.q_proj.bias"),
                    entry(Layer.KEY_BIAS, "self_attn.k_proj.bias"),
                    entry(Layer.VALUE_BIAS, "self_attn.v_proj.bias"),
                    entry(Layer.QUERY_NORM, "self_attn.q_norm.weight"),
                    entry(Layer.KEY_NORM, "self_attn.k_norm.weight"),
                    entry(Layer.FFN_NORM, "post_attention_layernorm.weight"),
                    entry(Layer.FFN_GATE, "mlp.gate_proj.weight"),
                    entry(Layer.FFN_UP, "mlp.up_proj.weight"),
                    entry(Layer.FFN_DOWN, "mlp.down_proj.weight")));

    /** The name of {@code tensor} in layer {@code layer}, or null where the format has no such tensor. */
    String of(int layer, Layer tensor) {
        String name = layerTensors.get(tensor);
        return name == null ? null : layerPrefix + layer + "." + name;
    }
}
