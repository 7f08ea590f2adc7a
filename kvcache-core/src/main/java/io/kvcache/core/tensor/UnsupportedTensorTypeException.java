package io.kvcache.core.tensor;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;

/** A tensor whose element type kvcache cannot compute with; the message names the tensor, its type and the supported types. */
public class UnsupportedTensorTypeException extends ModelFormatException {
    private final String tensor;
    private final GgmlType type;

    public UnsupportedTensorTypeException(String tensor, GgmlType type) {
        super("tensor '" + UntrustedText.quote(tensor) + "' has type " + type + ", which kvcache does not support (supported: "
                + GgmlType.SUPPORTED + ")");
        this.tensor = tensor;
        this.type = type;
    }

    public String tensor() {
        return tensor;
    }

    public GgmlType type() {
        return type;
    }
}
