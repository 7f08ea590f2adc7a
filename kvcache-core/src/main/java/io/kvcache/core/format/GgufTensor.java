package io.kvcache.core.format;

import io.kvcache.core.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, its dimensions in GGUF order ({@code dims[0]} is the
 * contiguous one, i.e. the number of columns of a matrix), its type, and its bytes as a slice of
 * the mapped file.
 */
public record GgufTensor(String name, long[] dims, GgmlType type, MemorySegment data) implements MappedTensor {

    @Override
    public int dimensionCount() {
        return dims.length;
    }

    @Override
    public long elementCount() {
        return Arrays.stream(dims).reduce(1, Math::multiplyExact);
    }

    @Override
    public int cols() {
        return Math.toIntExact(dims[0]);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
