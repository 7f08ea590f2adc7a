package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.tensor.WeightMatrix;

/** Shape checks that turn an inconsistent model into one clear error at load time instead of a wrong answer later. */
final class ModelChecks {
    private ModelChecks() {
    }

    static void validate(ModelConfig c, String source) {
        require(c.dim() > 0 && c.layers() > 0 && c.heads() > 0 && c.kvHeads() > 0 && c.ffnDim() > 0,
                source, "dimensions must be positive: " + c);
        require(c.heads() % c.kvHeads() == 0, source,
                "head count " + c.heads() + " is not a multiple of the key/value head count " + c.kvHeads());
        require(c.ropeDims() > 0 && c.ropeDims() <= c.headDim() && c.ropeDims() % 2 == 0, source,
                "RoPE dimension count " + c.ropeDims() + " must be even and at most the head width " + c.headDim());
        require(c.contextLength() > 0, source, "context length must be positive");
    }

    static void validate(ModelConfig c, ModelWeights w, String source) {
        int q = c.heads() * c.headDim();
        int k = c.kvHeads() * c.headDim();
        int v = c.kvHeads() * c.valueDim();
        shape(w.tokenEmbedding(), c.vocabularySize(), c.dim(), source);
        shape(w.output(), c.vocabularySize(), c.dim(), source);
        length(w.outputNorm(), c.dim(), "output norm", source);
        if (w.ropeFactors() != null) {
            length(w.ropeFactors(), c.ropeDims() / 2, "RoPE frequency factors", source);
        }
        for (int i = 0; i < w.layers().size(); i++) {
            LayerWeights l = w.layers().get(i);
            String layer = "layer " + i + " ";
            length(l.attentionNorm(), c.dim(), layer + "attention norm", source);
            length(l.ffnNorm(), c.dim(), layer + "ffn norm", source);
            shape(l.query(), q, c.dim(), source);
            if (c.kvLayer(i) == i || l.key() != null) {
                require(l.key() != null && l.value() != null, source, layer + "lacks the key/value projections its cache needs");
                shape(l.key(), k, c.dim(), source);
                shape(l.value(), v, c.dim(), source);
            }
            shape(l.attentionOutput(), c.dim(), c.heads() * c.valueDim(), source);
            shape(l.ffnGate(), c.ffnDim(), c.dim(), source);
            shape(l.ffnUp(), c.ffnDim(), c.dim(), source);
            shape(l.ffnDown(), c.dim(), c.ffnDim(), source);
            optionalLength(l.queryBias(), q, layer + "query bias", source);
            optionalLength(l.keyBias(), k, layer + "key bias", source);
            optionalLength(l.valueBias(), v, layer + "value bias", source);
            optionalLength(l.queryNorm(), c.headDim(), layer + "query norm", source);
            optionalLength(l.keyNorm(), c.headDim(), layer + "key norm", source);
            if (c.architecture() == Architecture.QWEN3) {
                require(l.queryNorm() != null && l.keyNorm() != null, source, layer + "lacks the q/k norms qwen3 needs");
            }
        }
    }

    private static void shape(WeightMatrix m, int rows, int cols, String source) {
        require(m.rows() == rows && m.cols() == cols, source, "tensor '" + m.name() + "' is " + m.rows() + " x "
                + m.cols() + " but the model's shape needs " + rows + " x " + cols);
    }

    private static void length(float[] v, int n, String what, String source) {
        require(v.length == n, source, what + " has " + v.length + " values, expected " + n);
    }

    private static void optionalLength(float[] v, int n, String what, String source) {
        if (v != null) {
            length(v, n, what, source);
        }
    }

    private static void require(boolean ok, String source, String message) {
        if (!ok) {
            throw new ModelFormatException(source + ": " + message);
        }
    }
}
