package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufMetadata;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Builds a {@link Model} from a GGUF file, with its weights left in the file mapping. */
final class GgufModelLoader {
    private GgufModelLoader() {
    }

    static Model load(Path path) {
        GgufFile file = GgufFile.open(path);
        try {
            GgufMetadata md = file.metadata();
            Architecture arch = Architecture.fromGguf(md.requireString("general.architecture"), path.toString());
            String p = arch.ggufName() + ".";
            String source = path.toString();
            // Checked before they divide or size anything; ModelChecks checks the whole shape below.
            int dim = ModelChecks.inRange(md.requireInt(p + "embedding_length"), 1, ModelChecks.MAX_WIDTH, "embedding width", source);
            int heads = ModelChecks.inRange(md.requireInt(p + "attention.head_count"), 1, ModelChecks.MAX_HEADS, "head count", source);
            int headDim = md.intOr(p + "attention.key_length", dim / heads);
            int layerCount = ModelChecks.inRange(md.requireInt(p + "block_count"), 1, ModelChecks.MAX_LAYERS, "layer count", source);
            int valueDim = md.intOr(p + "attention.value_length", headDim);
            int ropeDims = md.intOr(p + "rope.dimension_count", headDim);
            int contextLength = md.requireInt(p + "context_length");
            float ropeBase = md.floatOr(p + "rope.freq_base", 10000f);
            ModelTraits traits = FamilyTraits.read(arch, md, layerCount, dim, heads, headDim, valueDim, ropeDims, ropeBase,
                    contextLength, source);
            List<Integer> kvLayers = md.string(p + "attention.layer_types")
                    .map(types -> KvLayerTypes.parse(types, layerCount, path.toString()))
                    .orElse(FamilyTraits.kvLayers(arch, md, traits, layerCount, source));
            ModelWeightsReader weightsReader = new ModelWeightsReader(file, TensorNames.GGUF);
            ModelConfig config = new ModelConfig(
                    md.string("general.name").orElse(path.getFileName().toString()),
                    arch, dim,
                    layerCount,
                    heads,
                    md.intOr(p + "attention.head_count_kv", heads),
                    headDim,
                    valueDim,
                    widestFeedForward(md, p + "feed_forward_length", layerCount, source),
                    weightsReader.tokenEmbedding().rows(),
                    contextLength,
                    md.floatOr(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                    ropeBase,
                    ropeDims,
                    arch.ggufRopeStyle(), kvLayers, traits);
            ModelChecks.validate(config, path.toString());
            rejectUnsupportedTensors(file, config, source);

            ModelWeights weights = weightsReader.read(config);
            Tokenizer tokenizer = Tokenizers.fromGguf(md);
            ModelChecks.validate(config, tokenizer, path.toString());
            return new Model(path, config, weights, tokenizer, md.string("tokenizer.chat_template").orElse(null), file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * The feed-forward width: one for every layer, or (Gemma 4's double-wide feed-forward in its
     * layers that share keys and values) one per layer, of which the widest sizes the buffers; each
     * layer's own is its matrices' (at most the widest, checked by {@link ModelChecks}).
     */
    private static int widestFeedForward(GgufMetadata md, String key, int layers, String source) {
        Object value = md.get(key).orElse(null);
        if (!(value instanceof long[] || value instanceof int[])) {
            return md.requireInt(key);
        }
        long[] widths = value instanceof long[] l ? l : Arrays.stream((int[]) value).asLongStream().toArray();
        if (widths.length != layers) {
            throw new ModelFormatException(source + ": '" + key + "' has " + widths.length + " entries for " + layers + " layers");
        }
        long widest = 0;
        for (long width : widths) {
            widest = Math.max(widest, ModelChecks.inRange(width, 1, ModelChecks.MAX_WIDTH, "feed-forward width", source));
        }
        return (int) widest;
    }

    /**
     * Tensors llama.cpp would add to what kvcache computes (biases of the output projections and
     * the feed-forward, norm biases, a logit bias): refused by name, never ignored.
     */
    private static void rejectUnsupportedTensors(GgufFile file, ModelConfig config, String source) {
        List<String> names = new ArrayList<>(List.of("output.bias", "output_norm.bias"));
        for (int i = 0; i < config.layers(); i++) {
            for (String t : List.of("attn_output.bias", "attn_qkv.bias", "attn_norm.bias", "ffn_norm.bias", "ffn_up.bias",
                    "ffn_gate.bias", "ffn_down.bias", "ffn_gate_inp.weight")) {
                names.add("blk." + i + "." + t);
            }
        }
        for (String name : names) {
            if (file.tensor(name).isPresent()) {
                throw new ModelFormatException(source + ": tensor '" + name + "' (" + config.architecture().ggufName()
                        + ") is not supported: kvcache computes this family without it");
            }
        }
    }
}
