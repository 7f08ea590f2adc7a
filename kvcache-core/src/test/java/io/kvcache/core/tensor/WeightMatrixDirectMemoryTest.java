package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM whose direct memory cannot hold a matrix's row-group copy (a Spring application started
 * with a small {@code -Xmx}, which bounds direct memory too) still multiplies, bit for bit as the
 * copy would, and says why it is slow, instead of an {@link OutOfMemoryError} escaping.
 */
class WeightMatrixDirectMemoryTest {
    private static final int ROWS = 64;
    private static final int COLS = 4096;

    /** The products of one random Q8_0 matrix (kept on the heap, as the test's data) and input, as float bits. */
    private static int[] products() {
        Random random = new Random(5);
        ByteBuffer bytes = MatrixCheck.blocks(GgmlType.Q8_0, ROWS, COLS);
        random.nextBytes(bytes.array());
        for (int block = 0; block < bytes.capacity(); block += GgmlType.Q8_0.blockBytes()) {
            bytes.putShort(block, Float16s.fromFloat(0.001f + random.nextFloat() * 0.01f));
        }
        WeightMatrix matrix = WeightMatrix.of("blk.0.ffn_down.weight", GgmlType.Q8_0, ROWS, COLS,
                MemorySegment.ofArray(bytes.array()));
        float[] x = new float[COLS];
        for (int i = 0; i < COLS; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] out = new float[ROWS];
        try (ComputePool pool = new ComputePool(2)) {
            matrix.multiply(x, 1, out, pool);
        }
        int[] bits = new int[ROWS];
        for (int r = 0; r < ROWS; r++) {
            bits[r] = Float.floatToIntBits(out[r]);
        }
        return bits;
    }

    /** Run in the child JVM: prints the products, one per line. */
    public static void main(String[] args) {
        for (int bits : products()) {
            System.out.println(bits);
        }
    }

    @Test
    void multipliesFromTheFileWhenDirectMemoryRefusesTheCopy() throws IOException, InterruptedException {
        int[] grouped = products();

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-XX:MaxDirectMemorySize=64k", "-cp", System.getProperty("java.class.path"),
                WeightMatrixDirectMemoryTest.class.getName()));
        Process child = new ProcessBuilder(command).start();
        String stdout = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, child.exitValue(), stderr);

        assertTrue(stderr.contains("no direct memory for the row-group copy of blk.0.ffn_down.weight")
                && stderr.contains("-XX:MaxDirectMemorySize"), stderr);
        String[] lines = stdout.strip().split("\n");
        assertEquals(ROWS, lines.length, stdout);
        for (int r = 0; r < ROWS; r++) {
            assertEquals(grouped[r], Integer.parseInt(lines[r].strip()), "row " + r);
        }
    }
}
