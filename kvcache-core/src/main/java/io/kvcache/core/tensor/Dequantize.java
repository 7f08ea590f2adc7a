package io.kvcache.core.tensor;

import io.kvcache.core.ModelFormatException;

import java.lang.foreign.MemorySegment;

/** Whole-tensor conversion for small tensors (norm weights, biases): any supported type to float[]. */
public final class Dequantize {
    private Dequantize() {
    }

    /**
     * The {@code elements} values stored in {@code data} as {@code type}; throws
     * {@link UnsupportedTensorTypeException} for a type kvcache cannot read and
     * {@link ModelFormatException} when {@code data} does not hold exactly that many values.
     */
    public static float[] toFloats(GgmlType type, MemorySegment data, long elements) {
        Kernel kernel = Kernel.of(type, 1); // only read, never multiplied: any kernel of the type decodes it
        if (kernel == null) {
            throw new UnsupportedTensorTypeException("(dequantized)", type);
        }
        if (elements < 0 || elements > Integer.MAX_VALUE - 8 || elements % type.blockSize() != 0
                || data.byteSize() != type.bytesFor(elements)) {
            throw new ModelFormatException(elements + " values of type " + type + " need "
                    + type.bytesFor(elements - elements % type.blockSize()) + " bytes (whole blocks of "
                    + type.blockSize() + "), but the data has " + data.byteSize());
        }
        float[] out = new float[(int) elements];
        kernel.readRow(data, 0, (int) elements, out, 0);
        return out;
    }
}
