package io.kvcache.core.tensor;

import io.kvcache.core.ModelFormatException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightMatrixValidationTest {

    @Test
    void unsupportedTypeNamesTensorTypeAndSupportedTypes() {
        MemorySegment data = MemorySegment.ofArray(new byte[84 * 2]);
        UnsupportedTensorTypeException e = assertThrows(UnsupportedTensorTypeException.class,
                () -> WeightMatrix.of("blk.3.ffn_up.weight", GgmlType.Q2_K, 2, 256, data));
        assertInstanceOf(ModelFormatException.class, e);
        assertTrue(e.getMessage().contains("blk.3.ffn_up.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("Q2_K"), e.getMessage());
        for (GgmlType supported : GgmlType.SUPPORTED) {
            assertTrue(e.getMessage().contains(supported.name()), e.getMessage());
        }
        assertEquals(GgmlType.Q2_K, e.type());
        assertEquals("blk.3.ffn_up.weight", e.tensor());
        assertThrows(UnsupportedTensorTypeException.class,
                () -> Dequantize.toFloats(GgmlType.IQ2_XXS, MemorySegment.ofArray(new byte[66]), 256));
    }

    @Test
    void wrongByteSizeIsAFormatError() {
        MemorySegment data = MemorySegment.ofArray(new byte[34 * 4 - 1]);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> WeightMatrix.of("w", GgmlType.Q8_0, 2, 64, data));
        assertFalse(e instanceof UnsupportedTensorTypeException);
        assertTrue(e.getMessage().contains("136"), e.getMessage());
        assertThrows(ModelFormatException.class,
                () -> Dequantize.toFloats(GgmlType.F32, MemorySegment.ofArray(new byte[10]), 3));
    }

    @Test
    void columnsMustBeWholeBlocks() {
        MemorySegment data = MemorySegment.ofArray(new byte[34]);
        assertThrows(ModelFormatException.class, () -> WeightMatrix.of("w", GgmlType.Q8_0, 1, 16, data));
        assertThrows(ModelFormatException.class,
                () -> Dequantize.toFloats(GgmlType.Q8_0, MemorySegment.ofArray(new byte[34]), 16));
    }

    @Test
    void multiplyChecksBufferSizes() {
        WeightMatrix m = WeightMatrix.of("w", GgmlType.F32, 2, 3, MemorySegment.ofArray(new byte[24]));
        try (ComputePool pool = new ComputePool(1)) {
            assertThrows(IllegalArgumentException.class, () -> m.multiply(new float[5], 2, new float[4], pool));
            assertThrows(IllegalArgumentException.class, () -> m.multiply(new float[6], 2, new float[3], pool));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> m.readRow(2, new float[3], 0));
    }
}
