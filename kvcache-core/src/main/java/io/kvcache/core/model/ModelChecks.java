package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;
import io.kvcache.core.tensor.WeightMatrix;

/**
 * Shape checks that turn an inconsistent model into one clear error at load time instead of a wrong
 * answer later. The numbers come from the model file, so each is bounded before anything is sized
 * by it, and every product of them is computed exactly: eight heads of 2^29 + 8 would otherwise wrap
 * to a small width that loads and fails far away.
 */
final class ModelChecks {
    /** More layers than any model has (the largest have a few hundred). */
    static final int MAX_LAYERS = 4096;
    static final int MAX_HEADS = 4096;
    /** The widest vector the model computes: embedding, feed-forward, all heads together. */
    static final int MAX_WIDTH = 1 << 20;
    static final int MAX_CONTEXT = 1 << 26;

    private ModelChecks() {
    }

    /** {@code value} within {@code [min, max]}; called on counts before they size or divide anything. */
    static int inRange(long value, long min, long max, String what, String source) {
        require(value >= min && value <= max, source, what + " is " + value + ", expected " + min + " to " + max);
        return (int) value;
    }

    static void validate(ModelConfig c, String source) {
        inRange(c.dim(), 1, MAX_WIDTH, "embedding width", source);
        inRange(c.layers(), 1, MAX_LAYERS, "layer count", source);
        inRange(c.heads(), 1, MAX_HEADS, "head count", source);
        inRange(c.kvHeads(), 1, MAX_HEADS, "key/value head count", source);
        inRange(c.headDim(), 1, MAX_WIDTH, "key width", source);
        inRange(c.valueDim(), 1, MAX_WIDTH, "value width", source);
        inRange(c.ffnDim(), 1, MAX_WIDTH, "feed-forward width", source);
        inRange(c.vocabularySize(), 1, Tokenizers.MAX_VOCABULARY, "vocabulary size", source);
        inRange(c.contextLength(), 1, MAX_CONTEXT, "context length", source);
        inRange((long) c.heads() * c.headDim(), 1, MAX_WIDTH, "query width (heads x key width)", source);
        inRange((long) c.heads() * c.valueDim(), 1, MAX_WIDTH, "attention output width (heads x value width)", source);
        inRange((long) c.kvHeads() * Math.max(c.headDim(), c.valueDim()), 1, MAX_WIDTH,
                "key/value width (key/value heads x width)", source);
        require(Float.isFinite(c.rmsEpsilon()) && c.rmsEpsilon() > 0, source, "RMSNorm epsilon " + c.rmsEpsilon() + " must be positive");
        require(Float.isFinite(c.ropeBase()) && c.ropeBase() > 0, source, "RoPE base " + c.ropeBase() + " must be positive");
        require(c.heads() % c.kvHeads() == 0, source,
                "head count " + c.heads() + " is not a multiple of the key/value head count " + c.kvHeads());
        for (LayerAttention l : c.traits().layers()) {
            require(l.window() >= 0 && Float.isFinite(l.ropeBase()) && l.ropeBase() > 0
                    && Float.isFinite(l.ropeScale()) && l.ropeScale() > 0, source,
                    "layer window " + l.window() + ", RoPE base " + l.ropeBase() + " and scale " + l.ropeScale() + " must be positive");
        }
        require(c.ropeDims() > 0 && c.ropeDims() <= c.headDim() && c.ropeDims() % 2 == 0, source,
                "RoPE dimension count " + c.ropeDims() + " must be even and at most the head width " + c.headDim());
        for (int i = 0; i < c.layers(); i++) {
            LayerAttention la = c.attention(i);
            require(la.headDim() > 0 && la.headDim() <= c.headDim() && la.valueDim() > 0 && la.valueDim() <= c.valueDim(), source,
                    "layer " + i + "'s head widths " + la.headDim() + "/" + la.valueDim() + " must be positive and at most "
                            + c.headDim() + "/" + c.valueDim());
            require(la.ropeDims() > 0 && la.ropeDims() <= la.headDim() && la.ropeDims() % 2 == 0, source, "layer " + i
                    + "'s RoPE dimension count " + la.ropeDims() + " must be even and at most its head width " + la.headDim());
        }
    }

    /** Every id the tokenizer produces must have an embedding row (the model may have more rows than tokens). */
    static void validate(ModelConfig c, Tokenizer tokenizer, String source) {
        require(tokenizer.vocabularySize() <= c.vocabularySize(), source, "the tokenizer has " + tokenizer.vocabularySize()
                + " tokens but the embedding only " + c.vocabularySize() + " rows");
    }

    static void validate(ModelConfig c, ModelWeights w, String source) {
        shape(w.tokenEmbedding(), c.vocabularySize(), c.dim(), source);
        int perLayer = c.traits().perLayerInput();
        if (perLayer > 0) {
            ModelWeights.PerLayerInputs p = w.perLayerInputs();
            shape(p.embedding(), c.vocabularySize(), c.layers() * perLayer, source);
            shape(p.projection(), c.layers() * perLayer, c.dim(), source);
            length(p.projectionNorm(), perLayer, "per-layer projection norm", source);
        }
        shape(w.output(), c.vocabularySize(), c.dim(), source);
        length(w.outputNorm(), c.dim(), "output norm", source);
        optionalLength(w.ropeFactors(), c.ropeDims() / 2, "RoPE frequency factors", source);
        optionalLength(w.longRopeFactors(), c.ropeDims() / 2, "long RoPE frequency factors", source);
        for (int i = 0; i < w.layers().size(); i++) {
            LayerWeights l = w.layers().get(i);
            String layer = "layer " + i + " ";
            LayerAttention la = c.attention(i);
            int q = c.heads() * la.headDim();
            int k = c.kvHeads() * la.headDim();
            int v = c.kvHeads() * la.valueDim();
            Architecture arch = c.architecture();
            // Gemma 4's layers may be narrower than the widest (its double-wide feed-forward); the others all of one width
            int ffn = arch == Architecture.GEMMA4 ? l.ffnGate().rows() : c.ffnDim();
            require(ffn > 0 && ffn <= c.ffnDim(), source, layer + "feed-forward width " + ffn + " exceeds the widest " + c.ffnDim());
            length(l.attentionNorm(), c.dim(), layer + "attention norm", source);
            length(l.ffnNorm(), c.dim(), layer + "ffn norm", source);
            shape(l.query(), q, c.dim(), source);
            if (c.kvLayer(i) == i || l.key() != null) {
                require(l.key() != null && l.value() != null, source, layer + "lacks the key/value projections its cache needs");
                shape(l.key(), k, c.dim(), source);
                shape(l.value(), v, c.dim(), source);
            }
            shape(l.attentionOutput(), c.dim(), c.heads() * la.valueDim(), source);
            shape(l.ffnGate(), ffn, c.dim(), source);
            shape(l.ffnUp(), ffn, c.dim(), source);
            shape(l.ffnDown(), c.dim(), ffn, source);
            optionalLength(l.queryBias(), q, layer + "query bias", source);
            optionalLength(l.keyBias(), k, layer + "key bias", source);
            optionalLength(l.valueBias(), v, layer + "value bias", source);
            optionalLength(l.queryNorm(), la.headDim(), layer + "query norm", source);
            optionalLength(l.keyNorm(), la.headDim(), layer + "key norm", source);
            optionalLength(l.outputScale(), 1, layer + "output scale", source);
            if (perLayer > 0) {
                shape(l.perLayerGate(), perLayer, c.dim(), source);
                shape(l.perLayerProjection(), c.dim(), perLayer, source);
                length(l.perLayerPostNorm(), c.dim(), layer + "per-layer input norm", source);
            }
            optionalLength(l.postAttentionNorm(), c.dim(), layer + "post-attention norm", source);
            optionalLength(l.postFfnNorm(), c.dim(), layer + "post-feed-forward norm", source);
            if (arch == Architecture.QWEN3 || arch == Architecture.GEMMA3) {
                require(l.queryNorm() != null && l.keyNorm() != null, source, layer + "lacks the q/k norms " + arch.ggufName() + " needs");
            }
            if (arch == Architecture.GEMMA4) {
                require(l.queryNorm() != null && (c.kvLayer(i) != i || l.keyNorm() != null), source,
                        layer + "lacks the q/k norms gemma4 needs");
            }
            if (arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3 || arch == Architecture.GEMMA4) {
                require(l.postAttentionNorm() != null && l.postFfnNorm() != null, source,
                        layer + "lacks the post-attention and post-feed-forward norms " + arch.ggufName() + " needs");
            }
        }
    }

    private static void shape(WeightMatrix m, int rows, int cols, String source) {
        require(m.rows() == rows && m.cols() == cols, source, "tensor '" + UntrustedText.quote(m.name()) + "' is " + m.rows() + " x "
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
