package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.format.MappedTensor;
import io.kvcache.core.format.TensorFile;
import io.kvcache.core.model.TensorNames.Layer;
import io.kvcache.core.tensor.Dequantize;
import io.kvcache.core.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a model's weights from a tensor file by its format's {@link TensorNames}: the one builder of
 * {@link LayerWeights} and {@link ModelWeights} for every format. Matrices stay in the file mapping;
 * vectors are copied to the heap after their length is bounded.
 */
final class ModelWeightsReader {
    private final TensorFile file;
    private final TensorNames names;

    ModelWeightsReader(TensorFile file, TensorNames names) {
        this.file = file;
        this.names = names;
    }

    /** The token embedding, which a tied file may store under the output's name only. */
    WeightMatrix tokenEmbedding() {
        Optional<WeightMatrix> embedding = optionalMatrix(names.tokenEmbedding());
        if (embedding.isEmpty() && names.embeddingUnderOutput()) {
            embedding = optionalMatrix(names.output());
        }
        return embedding.orElseThrow(() -> missing(names.tokenEmbedding()));
    }

    /** Every weight of the model {@code config} describes, checked against it. */
    ModelWeights read(ModelConfig config) {
        WeightMatrix embedding = tokenEmbedding();
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            layers.add(layer(config, i));
        }
        // Gemma 2 always unembeds with the token embedding, whatever else the file holds.
        WeightMatrix output = config.architecture() == Architecture.GEMMA2 ? embedding
                : optionalMatrix(names.output()).orElse(embedding);
        float[] ropeFrequencies = optionalVector(names.ropeFrequencies());
        // Llama 3.1's frequencies serve every context; LongRoPE's short and long factors depend on it.
        ModelWeights.PerLayerInputs perLayerInputs = config.traits().perLayerInput() == 0 ? null
                : new ModelWeights.PerLayerInputs(matrix(names.perLayerEmbedding()), matrix(names.perLayerProjection()),
                        vector(names.perLayerProjectionNorm()));
        ModelWeights weights = new ModelWeights(embedding, layers, vector(names.outputNorm()), output,
                ropeFrequencies != null ? ropeFrequencies : optionalVector(names.ropeFactorsShort()),
                ropeFrequencies != null ? ropeFrequencies : optionalVector(names.ropeFactorsLong()), perLayerInputs);
        ModelChecks.validate(config, weights, file.path().toString());
        return weights;
    }

    private LayerWeights layer(ModelConfig config, int i) {
        WeightMatrix query;
        WeightMatrix key;
        WeightMatrix value;
        Optional<WeightMatrix> fusedQkv = optionalMatrix(names.of(i, Layer.FUSED_QUERY_KEY_VALUE));
        if (fusedQkv.isPresent()) {
            WeightMatrix qkv = fusedQkv.get();
            int q = config.heads() * config.attention(i).headDim();
            int k = config.kvHeads() * config.attention(i).headDim();
            query = rows(qkv, 0, q, names.of(i, Layer.QUERY));
            key = rows(qkv, q, k, names.of(i, Layer.KEY));
            value = rows(qkv, q + k, qkv.rows() - q - k, names.of(i, Layer.VALUE));
        } else {
            query = matrix(names.of(i, Layer.QUERY));
            key = keyValueMatrix(names.of(i, Layer.KEY), config, i);
            // Gemma 4 files without value projections (its larger shapes) take the keys' projection as values
            value = config.architecture() == Architecture.GEMMA4 && key != null
                    ? optionalMatrix(names.of(i, Layer.VALUE)).orElse(key)
                    : keyValueMatrix(names.of(i, Layer.VALUE), config, i);
        }
        WeightMatrix gate;
        WeightMatrix up;
        boolean perLayer = config.traits().perLayerInput() > 0;
        Optional<WeightMatrix> ownGate = optionalMatrix(names.of(i, Layer.FFN_GATE));
        String fusedGateUp = names.of(i, Layer.FUSED_FFN_GATE_UP);
        if (ownGate.isPresent() || fusedGateUp == null) {
            up = matrix(names.of(i, Layer.FFN_UP));
            gate = ownGate.orElseThrow(() -> missing(names.of(i, Layer.FFN_GATE)));
        } else {
            WeightMatrix gateUp = matrix(fusedGateUp);
            gate = rows(gateUp, 0, config.ffnDim(), names.of(i, Layer.FFN_GATE));
            up = rows(gateUp, config.ffnDim(), gateUp.rows() - config.ffnDim(), names.of(i, Layer.FFN_UP));
        }
        return new LayerWeights(
                vector(names.of(i, Layer.ATTENTION_NORM)),
                query, key, value,
                matrix(names.of(i, Layer.ATTENTION_OUTPUT)),
                optionalVector(names.of(i, Layer.QUERY_BIAS)),
                optionalVector(names.of(i, Layer.KEY_BIAS)),
                optionalVector(names.of(i, Layer.VALUE_BIAS)),
                optionalVector(names.of(i, Layer.QUERY_NORM)),
                optionalVector(names.of(i, Layer.KEY_NORM)),
                optionalVector(names.of(i, Layer.POST_ATTENTION_NORM)),
                vector(names.of(i, Layer.FFN_NORM)),
                gate, up,
                matrix(names.of(i, Layer.FFN_DOWN)),
                optionalVector(names.of(i, Layer.POST_FFN_NORM)),
                perLayer ? matrix(names.of(i, Layer.PER_LAYER_GATE)) : null,
                perLayer ? matrix(names.of(i, Layer.PER_LAYER_PROJECTION)) : null,
                perLayer ? vector(names.of(i, Layer.PER_LAYER_POST_NORM)) : null,
                config.architecture() == Architecture.GEMMA4 ? optionalVector(names.of(i, Layer.OUTPUT_SCALE)) : null);
    }

    /** A layer that attends to another layer's cache has no use for its own K/V projections (they may be absent). */
    private WeightMatrix keyValueMatrix(String name, ModelConfig config, int layer) {
        return config.kvLayer(layer) == layer ? matrix(name) : optionalMatrix(name).orElse(null);
    }

    /** Rows [first, first + count) of a fused projection, as a matrix of their own named {@code name}. */
    private static WeightMatrix rows(WeightMatrix fused, int first, int count, String name) {
        if (count <= 0 || first + count > fused.rows()) {
            throw new ModelFormatException("tensor '" + UntrustedText.quote(fused.name()) + "' has " + fused.rows()
                    + " rows, too few to hold " + name);
        }
        long rowBytes = fused.byteSize() / fused.rows();
        return WeightMatrix.of(name, fused.type(), count, fused.cols(),
                fused.bytes().asSlice(first * rowBytes, count * rowBytes));
    }

    private WeightMatrix matrix(String name) {
        return optionalMatrix(name).orElseThrow(() -> missing(name));
    }

    /** The matrix named {@code name}; empty where the file, or the format (a null name), has none. */
    private Optional<WeightMatrix> optionalMatrix(String name) {
        return tensor(name).map(this::matrix);
    }

    private WeightMatrix matrix(MappedTensor t) {
        if (t.dimensionCount() != 2) {
            throw new ModelFormatException(file.path() + ": tensor '" + UntrustedText.quote(t.name())
                    + "' should be a matrix but has " + t.dimensionCount() + " dimensions");
        }
        return WeightMatrix.of(t.name(), t.type(), t.rows(), t.cols(), t.data());
    }

    private float[] vector(String name) {
        return floats(tensor(name).orElseThrow(() -> missing(name)));
    }

    private float[] optionalVector(String name) {
        return tensor(name).map(this::floats).orElse(null);
    }

    /** Vectors are copied to the heap, so their length is bounded first (a quantized one expands eightfold). */
    private float[] floats(MappedTensor t) {
        ModelChecks.inRange(t.elementCount(), 1, ModelChecks.MAX_WIDTH, "the length of '" + UntrustedText.quote(t.name()) + "'",
                file.path().toString());
        return Dequantize.toFloats(t.type(), t.data(), t.elementCount());
    }

    private Optional<? extends MappedTensor> tensor(String name) {
        return name == null ? Optional.empty() : file.tensor(name);
    }

    private ModelFormatException missing(String name) {
        return new ModelFormatException(file.path() + ": required tensor '" + UntrustedText.quote(name) + "' is missing");
    }
}
