package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.gguf.GgufFile;
import io.kvcache.core.gguf.GgufMetadata;
import io.kvcache.core.gguf.GgufTensor;
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
                    md.requireInt(p + "context_length"),
                    md.floatOr(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                    md.floatOr(p + "rope.freq_base", 10000f),
                    md.intOr(p + "rope.dimension_count", headDim),
                    arch.ggufRopeStyle(), kvLayers);
            rejectRopeScaling(md, p, path);
            ModelChecks.validate(config, path.toString());

            List<LayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < config.layers(); i++) {
                String b = "blk." + i + ".";
                layers.add(new LayerWeights(
                        vector(file, b + "attn_norm.weight"),
                        matrix(file, b + "attn_q.weight"),
                        keyValueMatrix(file, b + "attn_k.weight", config, i),
                        keyValueMatrix(file, b + "attn_v.weight", config, i),
                        matrix(file, b + "attn_output.weight"),
                        optionalVector(file, b + "attn_q.bias"),
                        optionalVector(file, b + "attn_k.bias"),
                        optionalVector(file, b + "attn_v.bias"),
                        optionalVector(file, b + "attn_q_norm.weight"),
                        optionalVector(file, b + "attn_k_norm.weight"),
                        vector(file, b + "ffn_norm.weight"),
                        matrix(file, b + "ffn_gate.weight"),
                        matrix(file, b + "ffn_up.weight"),
                        matrix(file, b + "ffn_down.weight")));
            }
            WeightMatrix output = file.tensor("output.weight").map(GgufModelLoader::matrix).orElse(embedding);
            ModelWeights weights = new ModelWeights(embedding, layers, vector(file, "output_norm.weight"), output,
                    optionalVector(file, "rope_freqs.weight"));
            ModelChecks.validate(config, weights, path.toString());
            Tokenizer tokenizer = Tokenizers.fromGguf(md);
            ModelChecks.validate(config, tokenizer, path.toString());
            return new Model(path, config, weights, tokenizer, md.string("tokenizer.chat_template").orElse(null), file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static void rejectRopeScaling(GgufMetadata md, String p, Path path) {
        String type = md.string(p + "rope.scaling.type").orElse("none");
        float factor = md.floatOr(p + "rope.scaling.factor", 1f);
        if (!type.equals("none") && factor != 1f) {
            throw new ModelFormatException(path + ": RoPE scaling '" + UntrustedText.quote(type) + "' (factor " + factor
                    + ") is not supported; only unscaled RoPE and Llama 3.1 frequency factors are");
        }
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
