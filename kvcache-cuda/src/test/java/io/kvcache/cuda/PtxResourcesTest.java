package io.kvcache.cuda;

import io.kvcache.core.tensor.GgmlType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The PTX shipped in the jar: one file per CUDA source, current, valid, declaring what the README says, holding every kernel the Java side launches. */
class PtxResourcesTest {
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");

    private static String ptx(PtxModule module) {
        return new String(module.read(), StandardCharsets.UTF_8);
    }

    private static Set<String> entries(PtxModule module) {
        Matcher m = ENTRY.matcher(ptx(module));
        Set<String> names = new TreeSet<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static List<Path> cudaSources() throws IOException {
        Path sources = CudaTools.property("kvcache.cuda.sources");
        try (Stream<Path> files = Files.list(sources)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".cu")).sorted().toList();
        }
    }

    @Test
    void everyCudaSourceHasItsPtxModuleAndCommittedPtx() throws IOException {
        Set<String> sources = cudaSources().stream().map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        Set<String> modules = Arrays.stream(PtxModule.values()).map(PtxModule::sourceFile).collect(Collectors.toCollection(TreeSet::new));
        assertThat(modules).as("PtxModule constants against src/main/cuda/*.cu").isEqualTo(sources);
        Path ptxDir = CudaTools.property("kvcache.cuda.ptx.dir");
        for (PtxModule module : PtxModule.values()) {
            String file = module.sourceFile().replace(".cu", ".ptx");
            assertThat(ptxDir.resolve(file)).as("committed PTX of " + module.sourceFile()).isRegularFile();
            assertThat(module.read()).as(module.resource() + " as packaged").isEqualTo(Files.readAllBytes(ptxDir.resolve(file)));
        }
    }

    @Test
    void everyPtxDeclaresTheDocumentedIsaAndTarget() {
        for (PtxModule module : PtxModule.values()) {
            String text = ptx(module);
            assertThat(text).as(module.resource()).contains(".version " + PtxRequirements.PTX_ISA + "\n")
                    .contains(".target " + PtxRequirements.TARGET + "\n");
            assertThat(".version " + PtxRequirements.PTX_ISA).as("one .version only").isEqualTo(
                    text.lines().filter(l -> l.startsWith(".version")).findFirst().orElseThrow());
        }
        assertThat(CudaTools.property("kvcache.cuda.ptx.arch").toString())
                .as("the build's -arch and the documented target").isEqualTo("compute_" + PtxRequirements.TARGET.substring(3));
    }

    @Test
    void everyKernelTheJavaSideLaunchesIsAnEntryOfItsModule() {
        for (CudaKernel kernel : CudaKernel.values()) {
            assertThat(entries(kernel.module())).as(kernel + " in " + kernel.module().resource()).contains(kernel.entry());
        }
        Set<String> matmul = entries(PtxModule.MATMUL);
        for (GgmlType type : WeightKernels.TYPES) {
            WeightKernels k = WeightKernels.of("w", type);
            assertThat(matmul).as(type + " kernels").contains(k.matvec(), k.matmul(), k.embed());
        }
        assertThat(matmul).as("matmul.ptx holds the three kernels of each device type and nothing else")
                .hasSize(3 * WeightKernels.TYPES.size());
    }

    /** The entry's parameters as a signature (p .u64, i .u32/.s32, f .f32), and its .maxntid (0 when undeclared). */
    private record Declared(String signature, int maxThreads) {
    }

    private static Declared declared(PtxModule module, String entry) {
        String text = ptx(module);
        int at = text.indexOf(".entry " + entry + "(");
        assertThat(at).as(entry + " in " + module.resource()).isNotNegative();
        String params = text.substring(at, text.indexOf(')', at));
        StringBuilder signature = new StringBuilder();
        Matcher m = Pattern.compile("\\.param\\s+\\.(\\w+)").matcher(params);
        while (m.find()) {
            signature.append(switch (m.group(1)) {
                case "u64" -> 'p';
                case "u32", "s32" -> 'i';
                case "f32" -> 'f';
                default -> throw new AssertionError(entry + " has a parameter of type ." + m.group(1));
            });
        }
        String rest = text.substring(text.indexOf(')', at), text.indexOf('{', at));
        Matcher threads = Pattern.compile("\\.maxntid\\s+(\\d+)").matcher(rest);
        return new Declared(signature.toString(), threads.find() ? Integer.parseInt(threads.group(1)) : 0);
    }

    @Test
    void everyLaunchPassesTheArgumentsAndBlockSizeTheEntryDeclares() {
        for (CudaKernel kernel : CudaKernel.values()) {
            Declared d = declared(kernel.module(), kernel.entry());
            assertThat(kernel.signature()).as(kernel.entry() + " arguments").isEqualTo(d.signature());
            if (d.maxThreads() > 0) {
                assertThat(kernel.threads()).as(kernel.entry() + " block").isLessThanOrEqualTo(d.maxThreads());
            }
        }
        for (GgmlType type : WeightKernels.TYPES) {
            WeightKernels k = WeightKernels.of("w", type);
            for (String entry : List.of(k.matvec(), k.matmul())) {
                Declared d = declared(PtxModule.MATMUL, entry);
                assertThat(WeightKernels.PRODUCT_SIGNATURE).as(entry).isEqualTo(d.signature());
                assertThat(WeightKernels.THREADS).as(entry + " block").isEqualTo(d.maxThreads());
            }
            assertThat(WeightKernels.EMBED_SIGNATURE).as(k.embed()).isEqualTo(declared(PtxModule.MATMUL, k.embed()).signature());
        }
    }

    @Test
    void committedPtxIsWhatNvccMakesOfTheSources(@TempDir Path out) throws IOException {
        Path nvcc = CudaTools.requireNvcc();
        String release = CudaTools.nvccRelease(nvcc);
        Optional<String> committedRelease = CudaTools.release(ptx(PtxModule.MATMUL));
        Assumptions.assumeTrue(committedRelease.isPresent() && committedRelease.get().equals(release),
                () -> "skipped: the committed PTX comes from '" + committedRelease.orElse("?") + "', this machine has '"
                        + release + "'; PTX of different compilers differs");
        List<String> command = new ArrayList<>(List.of(nvcc.toString(), "-ptx",
                "-arch=" + CudaTools.property("kvcache.cuda.ptx.arch"), "--output-directory", out.toString()));
        cudaSources().forEach(p -> command.add(p.getFileName().toString()));
        CudaTools.run(command, CudaTools.property("kvcache.cuda.sources"));
        for (PtxModule module : PtxModule.values()) {
            String file = module.sourceFile().replace(".cu", ".ptx");
            assertThat(new String(Files.readAllBytes(out.resolve(file)), StandardCharsets.UTF_8))
                    .as(file + " regenerated from " + module.sourceFile() + " (run the build where nvcc is, or -Pptx, and commit the PTX)")
                    .isEqualTo(ptx(module));
        }
    }

    @Test
    void ptxasAcceptsEveryModuleForTheOldestAndNewestTargetedGpus(@TempDir Path work) throws IOException {
        Optional<Path> ptxas = CudaTools.ptxas();
        Assumptions.assumeTrue(ptxas.isPresent(), "skipped: no ptxas on this machine");
        for (PtxModule module : PtxModule.values()) {
            Path file = work.resolve(module.sourceFile().replace(".cu", ".ptx"));
            Files.write(file, module.read());
            for (String arch : List.of(PtxRequirements.TARGET, "sm_80", "sm_90")) {
                CudaTools.run(List.of(ptxas.get().toString(), "-arch=" + arch, file.toString(), "-o",
                        work.resolve(arch + ".cubin").toString()), work);
            }
        }
    }
}
