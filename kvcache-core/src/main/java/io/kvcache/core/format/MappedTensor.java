package io.kvcache.core.format;

import io.kvcache.core.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * One tensor of a model file, whatever the format: its name, type, shape and bytes, a slice of the
 * mapped file (never copied).
 */
public interface MappedTensor {
    String name();

    GgmlType type();

    MemorySegment data();

    /** How many dimensions the file gives it (a matrix has 2). */
    int dimensionCount();

    long elementCount();

    /** Columns of a matrix: the contiguous dimension. */
    int cols();

    /** Rows of a matrix: the product of every dimension but the contiguous one. */
    default int rows() {
        return Math.toIntExact(elementCount() / cols());
    }
}
