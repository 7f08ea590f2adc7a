package io.kvcache.cuda;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The CUDA compiler tools on this machine (nvcc, ptxas), for the tests that need no GPU but a toolkit. */
final class CudaTools {
    private static final Pattern RELEASE = Pattern.compile("Cuda compilation tools, release [0-9.]+, V[0-9.]+");

    private CudaTools() {
    }

    /** The build's folders and settings, passed in by surefire. */
    static Path property(String name) {
        String value = System.getProperty(name);
        Assumptions.assumeTrue(value != null, () -> "skipped: system property " + name + " is not set (run through Maven)");
        return Path.of(value);
    }

    /** nvcc as the build names it (kvcache.nvcc), else from PATH or /usr/local/cuda; empty when there is none. */
    static Optional<Path> nvcc() {
        return tool(System.getProperty("kvcache.nvcc", "nvcc"), "nvcc");
    }

    /** ptxas beside nvcc, else from PATH. */
    static Optional<Path> ptxas() {
        Optional<Path> beside = nvcc().map(n -> n.resolveSibling("ptxas")).filter(Files::isExecutable);
        return beside.isPresent() ? beside : tool("ptxas", "ptxas");
    }

    private static Optional<Path> tool(String configured, String name) {
        Path given = Path.of(configured);
        if (given.isAbsolute()) {
            return Files.isExecutable(given) ? Optional.of(given) : Optional.empty();
        }
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, name));
            }
        }
        candidates.add(Path.of("/usr/local/cuda/bin", name));
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    static Path requireNvcc() {
        Optional<Path> nvcc = nvcc();
        Assumptions.assumeTrue(nvcc.isPresent(), "skipped: no nvcc on this machine (kvcache.nvcc, PATH, /usr/local/cuda/bin)");
        return nvcc.get();
    }

    /** The "Cuda compilation tools, release X, VY" line of nvcc --version, or of a PTX file's header. */
    static Optional<String> release(String text) {
        Matcher m = RELEASE.matcher(text);
        return m.find() ? Optional.of(m.group()) : Optional.empty();
    }

    static String nvccRelease(Path nvcc) {
        return release(run(List.of(nvcc.toString(), "--version"), nvcc.getParent())).orElseThrow(
                () -> new AssertionError(nvcc + " --version names no release"));
    }

    /** Runs a command and returns its output; fails the test with the output when it exits non-zero. */
    static String run(List<String> command, Path directory) {
        try {
            Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish in 5 minutes");
            }
            String text = new String(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " exited with " + process.exitValue() + ":\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new AssertionError("could not run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }
}
