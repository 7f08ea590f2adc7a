package io.kvcache.cuda;

import io.kvcache.core.tensor.GgmlType;
import io.kvcache.core.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;

/**
 * Where one weight lives in the device's weight allocation: a matrix with its bytes as stored in
 * the model file, or a float vector (norm gains, biases, RoPE frequencies) as F32.
 *
 * @param name   the tensor, as the model names it
 * @param type   its element type on the device
 * @param rows   rows (1 for a vector)
 * @param cols   values per row
 * @param offset byte offset in the weight allocation
 * @param bytes  bytes it takes there
 * @param source its host bytes, copied to the device as they are
 */
public record WeightSlot(String name, GgmlType type, int rows, int cols, long offset, long bytes, MemorySegment source) {

    static WeightSlot matrix(WeightMatrix m, long offset) {
        return new WeightSlot(m.name(), m.type(), m.rows(), m.cols(), offset, m.byteSize(), m.bytes());
    }

    static WeightSlot vector(String name, float[] values, long offset) {
        return new WeightSlot(name, GgmlType.F32, 1, values.length, offset, (long) values.length * Float.BYTES,
                MemorySegment.ofArray(values));
    }

    /** The byte offset right after it. */
    long end() {
        return offset + bytes;
    }
}
