package io.kvcache.core.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A seeded mutation fuzzer run from JUnit: mutates seed inputs (real model files, templates,
 * tokenizer files, texts), runs a target on each, and counts as a finding any throwable outside the
 * target's documented exceptions (an {@code Error} such as OutOfMemoryError or StackOverflowError
 * included) and any input that takes more than {@value #HANG_CPU_MILLIS} ms of CPU. Inputs run on a
 * worker thread so that a hang is reported rather than stopping the suite.
 *
 * <p>{@code -Dkvcache.fuzz.inputs=N} sets the inputs per target (CI runs the small default);
 * {@code -Dkvcache.fuzz.seed=S} the random seed. Each target writes its counts to
 * {@code target/fuzz/<target>.txt} and the inputs of findings beside them.
 */
final class Fuzzing {
    static final long HANG_CPU_MILLIS = 1000;
    /** Beyond this wall time an input is abandoned as hung (CPU time is the measure; this catches blocking). */
    private static final long ABANDON_SECONDS = 30;

    /** The outcome of a campaign: inputs run, documented exceptions by type, findings by description. */
    record Report(String target, long inputs, long millis, Map<String, Long> documented, List<String> findings) {
        @Override
        public String toString() {
            return "fuzz " + target + ": " + inputs + " inputs in " + millis / 1000 + " s; documented exceptions "
                    + documented + "; findings " + findings.size() + (findings.isEmpty() ? "" : " " + findings);
        }
    }

    interface Target<T> {
        void run(T input) throws Exception;
    }

    interface Mutator<T> {
        T mutate(T seed, List<T> seeds, Random random);
    }

    private Fuzzing() {
    }

    static int inputs(int ciDefault) {
        return Integer.getInteger("kvcache.fuzz.inputs", ciDefault);
    }

    static <T> Report run(String name, List<T> seeds, Mutator<T> mutator, Target<T> target,
                          Set<Class<? extends Throwable>> documented, int inputs, Encoder<T> encoder) {
        Random random = new Random(Long.getLong("kvcache.fuzz.seed", 20261205L) ^ name.hashCode());
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<String, Long> seen = new TreeMap<>();
        List<String> findings = new ArrayList<>();
        Path out = Path.of("target", "fuzz");
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "fuzz-" + name));
        long start = System.nanoTime();
        try {
            Files.createDirectories(out);
            for (int i = 0; i < inputs; i++) {
                // Every seed runs unmutated first: the real inputs must pass.
                T input = i < seeds.size() ? seeds.get(i) : mutator.mutate(seeds.get(random.nextInt(seeds.size())), seeds, random);
                Future<Long> run = worker.submit(() -> {
                    long cpu = threads.getCurrentThreadCpuTime();
                    try {
                        target.run(input);
                    } catch (Throwable t) {
                        if (documented.stream().noneMatch(d -> d.isInstance(t))) {
                            throw new ExecutionException(t);
                        }
                        synchronized (seen) {
                            seen.merge(t.getClass().getSimpleName(), 1L, Long::sum);
                        }
                    }
                    return (threads.getCurrentThreadCpuTime() - cpu) / 1_000_000;
                });
                String finding = null;
                try {
                    long cpuMillis = run.get(ABANDON_SECONDS, TimeUnit.SECONDS);
                    if (cpuMillis > HANG_CPU_MILLIS) {
                        finding = "input " + i + " took " + cpuMillis + " ms of CPU";
                    }
                } catch (TimeoutException e) {
                    run.cancel(true);
                    worker.shutdownNow();
                    worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "fuzz-" + name));
                    finding = "input " + i + " hung for " + ABANDON_SECONDS + " s";
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause() instanceof ExecutionException inner ? inner.getCause() : e.getCause();
                    finding = "input " + i + ": " + cause + " at " + firstKvcacheFrame(cause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                if (finding != null) {
                    findings.add(finding);
                    Files.write(out.resolve(name + "-finding-" + i), encoder.bytes(input));
                }
            }
            Report report = new Report(name, inputs, (System.nanoTime() - start) / 1_000_000, seen, findings);
            Files.writeString(out.resolve(name + ".txt"), report + "\n");
            System.out.println(report);
            return report;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            worker.shutdownNow();
        }
    }

    private static String firstKvcacheFrame(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("io.kvcache.core") && !e.getClassName().contains(".fuzz.")) {
                return e.toString();
            }
        }
        return t.getStackTrace().length > 0 ? t.getStackTrace()[0].toString() : "?";
    }

    /** How an input is saved when it is a finding. */
    interface Encoder<T> {
        byte[] bytes(T input);
    }

    static final Encoder<byte[]> BYTES = b -> b;
    static final Encoder<String> TEXT = s -> s.getBytes(StandardCharsets.UTF_8);
}
