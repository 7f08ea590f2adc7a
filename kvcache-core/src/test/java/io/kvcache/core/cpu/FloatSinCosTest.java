package io.kvcache.core.cpu;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

class FloatSinCosTest {

    /** Every 101st float bit pattern: 42 million arguments, a second against the C library. */
    private static final int STRIDE = 101;

    @Test
    void withinOneUlpOfTheTrueValueAndOnTheUnitCircle() {
        for (long bits = 0; bits < 0x4b000000L; bits += 10 * STRIDE) { // |x| < 2^23, beyond any RoPE angle
            float x = Float.intBitsToFloat((int) bits);
            float sin = FloatSinCos.sin(x);
            float cos = FloatSinCos.cos(x);
            assertThat((double) sin).as("sin(%s)", x).isCloseTo(Math.sin(x), offset((double) Math.ulp(sin)));
            assertThat((double) cos).as("cos(%s)", x).isCloseTo(Math.cos(x), offset((double) Math.ulp(cos)));
            assertThat(FloatSinCos.sin(-x)).isEqualTo(-sin);
            assertThat(FloatSinCos.cos(-x)).isEqualTo(cos);
        }
    }

    @Test
    void specialValues() {
        assertThat(FloatSinCos.sin(0f)).isEqualTo(0f);
        assertThat(FloatSinCos.cos(0f)).isEqualTo(1f);
        assertThat(FloatSinCos.sin(1e-5f)).isEqualTo(1e-5f);
        assertThat(FloatSinCos.sin(Float.POSITIVE_INFINITY)).isNaN();
        assertThat(FloatSinCos.cos(Float.NaN)).isNaN();
    }

    /**
     * Bit for bit what the C library computes, where that library is the one llama.cpp's
     * reference outputs came from: glibc on an x86-64 CPU with FMA.
     */
    @Test
    void identicalToGlibcOnX86WithFma() throws Throwable {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Assumptions.assumeTrue(System.getProperty("os.arch").equals("amd64")
                && libc.find("gnu_get_libc_version").isPresent() && cpuHasFma(),
                "skipped: the C library here is not glibc on an x86-64 CPU with FMA");
        FunctionDescriptor floatToFloat = FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT);
        MethodHandle sinf = linker.downcallHandle(libc.find("sinf").orElseThrow(), floatToFloat);
        MethodHandle cosf = linker.downcallHandle(libc.find("cosf").orElseThrow(), floatToFloat);
        for (long bits = 0; bits < 0x100000000L; bits += STRIDE) {
            float x = Float.intBitsToFloat((int) bits);
            if (Float.isNaN(x)) {
                continue;
            }
            float expectedSin = (float) sinf.invokeExact(x);
            float expectedCos = (float) cosf.invokeExact(x);
            if (Float.compare(FloatSinCos.sin(x), expectedSin) != 0 || Float.compare(FloatSinCos.cos(x), expectedCos) != 0) {
                assertThat(new float[] {FloatSinCos.sin(x), FloatSinCos.cos(x)}).as("sin and cos of %s", x)
                        .containsExactly(expectedSin, expectedCos);
            }
        }
    }

    private static boolean cpuHasFma() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        Optional<String> flags = Files.exists(cpuinfo)
                ? Files.readAllLines(cpuinfo).stream().filter(line -> line.startsWith("flags")).findFirst()
                : Optional.empty();
        return flags.map(line -> line.contains(" fma ")).orElse(false);
    }
}
