package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.format.GgufFile;
import io.kvcache.core.format.GgufMetadata;
import io.kvcache.core.format.GgufTensor;
import io.kvcache.core.tensor.Dequantize;
import io.kvcache.core.tensor.WeightMatrix;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;

import java.nio.file.Path;
import java.util.ArrayList;
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
            WeightMatrix embedding = matrix(file, "token_embd.weight");
            int layerCount = ModelChecks.inRange(md.requireInt(p + "block_count"), 1, ModelChecks.MAX_LAYERS, "layer count", source);
            List<Integer> kvLayers = md.string(p + "attention.layer_types")
                    .map(types -> KvLayerTypes.parse(types, layerCount, path.toString()))
                    .orElse(java.util.stream.IntStream.range(0, layerCount).boxed().toList());
            int contextLength = md.requireInt(p + "context_length");
            float ropeBase = md.floatOr(p + "rope.freq_base", 10000f);
            ModelTraits traits = FamilyTraits.read(arch, md, layerCount, dim, heads, headDim, ropeBase, contextLength, source);
            ModelConfig config = new ModelConfig(
                    md.string("general.name").orElse(path.getFileName().toString()),
                    arch, dim,
                    layerCount,
                    heads,
                    md.intOr(p + "attention.head_count_kv", heads),
                    headDim,
                    md.intOr(p + "attention.value_length", headDim),
                    md.requireInt(p + "feed_forward_length"),
                    embedding.rows(),
                    contextLength,
                    md.floatOr(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                    ropeBase,
                    md.intOr(p + "rope.dimension_count", headDim),
                    arch.ggufRopeStyle(), kvLayers, traits);
            ModelChecks.validate(config, path.toString());
            rejectUnsupportedTensors(file, config, source);

            int q = config.heads() * config.headDim();
            int k = config.kvHeads() * config.headDim();
            List<LayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < config.layers(); i++) {
                String b = "blk." + i + ".";
                WeightMatrix query;
                WeightMatrix key;
                WeightMatrix value;
                var fused = file.tensor(b + "attn_qkv.weight");
                if (fused.isPresent()) {
                    // Phi 3's fused projection: the query rows, then the key rows, then the value rows.
                    WeightMatrix qkv = matrix(fused.get());
                    query = rows(qkv, 0, q, b + "attn_q");
                    key = rows(qkv, q, k, b + "attn_k");
                    value = rows(qkv, q + k, qkv.rows() - q - k, b + "attn_v");
                } else {
                    query = matrix(file, b + "attn_q.weight");
                    key = keyValueMatrix(file, b + "attn_k.weight", config, i);
                    value = keyValueMatrix(file, b + "attn_v.weight", config, i);
                }
                WeightMatrix up = matrix(file, b + "ffn_up.weight");
                WeightMatrix gate;
                if (file.tensor(b + "ffn_gate.weight").isPresent()) {
                    gate = matrix(file, b + "ffn_gate.weight");
                } else {
                    // Phi 3's fused feed-forward input: the gate rows, then the up rows.
                    WeightMatrix gateUp = up;
                    gate = rows(gateUp, 0, config.ffnDim(), b + "ffn_gate");
                    up = rows(gateUp, config.ffnDim(), gateUp.rows() - config.ffnDim(), b + "ffn_up");
                }
                layers.add(new LayerWeights(
                        vector(file, b + "attn_norm.weight"),
                        query, key, value,
                        matrix(file, b + "attn_output.weight"),
                        optionalVector(file, b + "attn_q.bias"),
                        optionalVector(file, b + "attn_k.bias"),
                        optionalVector(file, b + "attn_v.bias"),
                        optionalVector(file, b + "attn_q_norm.weight"),
                        optionalVector(file, b + "attn_k_norm.weight"),
                        optionalVector(file, b + "post_attention_norm.weight"),
                        vector(file, b + "ffn_norm.weight"),
                        gate, up,
                        matrix(file, b + "ffn_down.weight"),
                        optionalVector(file, b + "post_ffw_norm.weight")));
            }
            // Gemma 2 always unembeds with the token embedding, whatever else the file holds.
            WeightMatrix output = arch == Architecture.GEMMA2 ? embedding
                    : file.tensor("output.weight").map(GgufModelLoader::matrix).orElse(embedding);
            float[] ropeFreqs = optionalVector(file, "rope_freqs.weight");
            // Llama 3.1's rope_freqs serve every context; LongRoPE's short and long factors depend on it.
            ModelWeights weights = new ModelWeights(embedding, layers, vector(file, "output_norm.weight"), output,
                    ropeFreqs != null ? ropeFreqs : optionalVector(file, "rope_factors_short.weight"),
                    ropeFreqs != null ? ropeFreqs : optionalVector(file, "rope_factors_long.weight"));
            ModelChecks.validate(config, weights, path.toString());
            Tokenizer tokenizer = Tokenizers.fromGguf(md);
            ModelChecks.validate(config, tokenizer, path.toString());
            return new Model(path, config, weights, tokenizer, md.string("tokenizer.chat_template").orElse(null), file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
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

    /** Rows [first, first + count) of a fused projection, as a matrix of their own. */
    private static WeightMatrix rows(WeightMatrix fused, int first, int count, String name) {
        if (count <= 0 || first + count > fused.rows()) {
            throw new ModelFormatException("tensor '" + UntrustedText.quote(fused.name()) + "' has " + fused.rows()
                    + " rows, too few to hold " + name);
        }
        long rowBytes = fused.byteSize() / fused.rows();
        return WeightMatrix.of(name + ".weight", fused.type(), count, fused.cols(),
                fused.bytes().asSlice(first * rowBytes, count * rowBytes));
    }

    /** A layer that attends to another layer's cache has no use for its own K/V projections (they may be absent). */
    private static WeightMatrix keyValueMatrix(GgufFile file, String name, ModelConfig config, int layer) {
        return config.kvLayer(layer) == layer ? matrix(file, name) : file.tensor(name).map(GgufModelLoader::matrix).orElse(null);
    }

    private static WeightMatrix matrix(GgufFile file, String name) {
        return matrix(file.requireTensor(name));
    }

    private static WeightMatrix matrix(GgufTensor t) {
        if (t.dims().length != 2) {
            throw new ModelFormatException("tensor '" + UntrustedText.quote(t.name()) + "' should be a matrix but has dimensions "
                    + java.util.Arrays.toString(t.dims()));
        }
        return WeightMatrix.of(t.name(), t.type(), t.rows(), t.cols(), t.data());
    }

    private static float[] vector(GgufFile file, String name) {
        return floats(file.requireTensor(name));
    }

    private static float[] optionalVector(GgufFile file, String name) {
        return file.tensor(name).map(GgufModelLoader::floats).orElse(null);
    }

    /** Vectors are copied to the heap, so their length is bounded first (a quantized one expands eightfold). */
    private static float[] floats(GgufTensor t) {
        ModelChecks.inRange(t.elementCount(), 1, ModelChecks.MAX_WIDTH, "the length of '" + UntrustedText.quote(t.name()) + "'",
                "GGUF tensor");
        return Dequantize.toFloats(t.type(), t.data(), t.elementCount());
    }
}
