package io.kvcache.benchmarks;

import io.kvcache.core.tensor.BFloat16s;
import io.kvcache.core.tensor.ComputePool;
import io.kvcache.core.tensor.Float16s;
import io.kvcache.core.tensor.GgmlType;
import io.kvcache.core.tensor.WeightMatrix;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Matrix times vector ({@code batch} = 1, decoding) and matrix times matrix (prefill, e.g.
 * {@code -p batch=512}, a whole prompt) throughput of {@link WeightMatrix#multiply} per weight type, on matrices of
 * random but valid blocks shaped like SmolLM2-135M's feed-forward (576 x 1536 and 1536 x 576;
 * K-quants need whole 256-blocks per row, so their 576 columns become 512). The {@code weightGB}
 * counter is the rate at which weight bytes are read, in GB/s, the {@code gmac} counter the rate
 * of multiply-adds in billions per second; the primary score is multiplies/s.
 *
 * <p>Run from the repository root:
 * <pre>
 * ./mvnw -q -pl benchmarks -am package -DskipTests
 * $JAVA_HOME/bin/java --add-modules jdk.incubator.vector -cp "benchmarks/target/classes:benchmarks/target/lib/*" \
 *     org.openjdk.jmh.Main QuantizedDot -f 1 -wi 2 -i 3
 * </pre>
 * The two SmolLM2 shapes fit in a typical L3 cache, so they measure the kernels rather than DRAM;
 * {@code 2048x8192} (Llama-3.2-1B's feed-forward, 9-17 MB quantized) reads from memory. Q8_0, Q4_K
 * and Q6_K matrices (their rows but the last {@code rows % 16}) are copied into row groups at their first
 * multiply (see {@code RowGroups} in kvcache-core), which happens during the warm-up iterations.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class QuantizedDotBenchmark {

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    /** rows x cols. */
    @Param({"576x1536", "1536x576", "2048x8192"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    @Param({"1"})
    public int batch;

    private Arena arena;
    private ComputePool pool;
    private WeightMatrix matrix;
    private float[] x;
    private float[] out;

    /**
     * Weight bytes read per second (GB/s, what bounds a decode step), and multiply-adds per
     * second (billions, what bounds prefill), reported by JMH as rates next to the score.
     */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Traffic {
        public double weightGB;
        public double gmac;
    }

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType ggmlType = GgmlType.valueOf(type);
        String[] dims = shape.split("x");
        int rows = Integer.parseInt(dims[0]);
        int cols = Integer.parseInt(dims[1]) / ggmlType.blockSize() * ggmlType.blockSize();
        arena = Arena.ofShared();
        MemorySegment data = arena.allocate(ggmlType.bytesFor((long) rows * cols), 64);
        data.copyFrom(MemorySegment.ofArray(randomBlocks(ggmlType, rows * cols, new Random(42)).array()));
        matrix = WeightMatrix.of("bench", ggmlType, rows, cols, data);
        pool = new ComputePool(threads);
        Random random = new Random(7);
        x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        out = new float[batch * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] multiply(Traffic traffic) {
        matrix.multiply(x, batch, out, pool);
        traffic.weightGB += matrix.byteSize() / 1e9;
        traffic.gmac += (double) matrix.rows() * matrix.cols() * batch / 1e9;
        return out;
    }

    /** Random quants with finite, realistic fp16 scales where each format keeps them. */
    static ByteBuffer randomBlocks(GgmlType type, int elements, Random random) {
        ByteBuffer bytes = ByteBuffer.allocate((int) type.bytesFor(elements)).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> {
                for (int i = 0; i < elements; i++) {
                    bytes.putFloat((float) random.nextGaussian() * 0.02f);
                }
            }
            case F16 -> {
                for (int i = 0; i < elements; i++) {
                    bytes.putShort(Float16s.fromFloat((float) random.nextGaussian() * 0.02f));
                }
            }
            case BF16 -> {
                for (int i = 0; i < elements; i++) {
                    bytes.putShort(BFloat16s.fromFloat((float) random.nextGaussian() * 0.02f));
                }
            }
            default -> {
                random.nextBytes(bytes.array());
                int[] scaleOffsets = switch (type) {
                    case Q8_0, Q4_0 -> new int[] {0};
                    case Q4_K, Q5_K -> new int[] {0, 2};
                    case Q6_K -> new int[] {208};
                    default -> throw new IllegalArgumentException("no benchmark blocks for " + type);
                };
                for (int block = 0; block < bytes.capacity(); block += type.blockBytes()) {
                    for (int offset : scaleOffsets) {
                        bytes.putShort(block + offset, Float16s.fromFloat(0.001f + random.nextFloat() * 0.01f));
                    }
                }
            }
        }
        return bytes;
    }
}
