package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Float16sTest {

    @Test
    void fp16KnownValuesAndTiesToEven() {
        assertEquals((short) 0x3C00, Float16s.fromFloat(1f));
        assertEquals((short) 0xC000, Float16s.fromFloat(-2f));
        assertEquals((short) 0x7BFF, Float16s.fromFloat(65504f));
        assertEquals(0.5f, Float16s.toFloat((short) 0x3800));
        assertEquals(0x1p-24f, Float16s.toFloat((short) 0x0001)); // smallest subnormal
        // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
        assertEquals(1f, Float16s.round(1f + 0x1p-11f));
        // 1 + 3*2^-11 lies halfway between 1 + 2^-10 and 1 + 2^-9: the even one is 1 + 2^-9.
        assertEquals(1f + 0x1p-9f, Float16s.round(1f + 3 * 0x1p-11f));
    }

    @Test
    void bf16KnownValuesAndTiesToEven() {
        assertEquals((short) 0x3F80, BFloat16s.fromFloat(1f));
        assertEquals(-2f, BFloat16s.toFloat((short) 0xC000));
        assertEquals((short) 0x3F80, BFloat16s.fromFloat(Float.intBitsToFloat(0x3F808000))); // tie, even down
        assertEquals((short) 0x3F82, BFloat16s.fromFloat(Float.intBitsToFloat(0x3F818000))); // tie, even up
        assertEquals((short) 0x3F81, BFloat16s.fromFloat(Float.intBitsToFloat(0x3F80C000))); // above half
        assertTrue(Float.isNaN(BFloat16s.round(Float.intBitsToFloat(0x7F800001))));        // NaN with low bits only
        assertEquals(Float.NEGATIVE_INFINITY, BFloat16s.round(Float.NEGATIVE_INFINITY));
    }
}
