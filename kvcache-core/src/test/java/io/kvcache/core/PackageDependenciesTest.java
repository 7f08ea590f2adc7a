package io.kvcache.core;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The packages of the engine depend on each other one way only, and the layers stay where they
 * belong: the file formats know nothing but the tensor types, the model does not know the cache or
 * any backend, the cache does not know how it is computed, and only the CPU backend's package names
 * the CPU forward pass.
 */
class PackageDependenciesTest {
    private static JavaClasses core;

    @BeforeAll
    static void importClasses() {
        core = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.kvcache.core");
    }

    @Test
    void noCycleBetweenPackages() {
        slices().matching("io.kvcache.core.(*)..").should().beFreeOfCycles().check(core);
    }

    @Test
    void theModelKnowsNeitherTheCacheNorTheBackends() {
        noClasses().that().resideInAPackage("io.kvcache.core.model..")
                .should().dependOnClassesThat().resideInAnyPackage("io.kvcache.core.kv..", "io.kvcache.core.backend..",
                        "io.kvcache.core.cpu..", "io.kvcache.core.generate..", "io.kvcache.core.sampling..")
                .check(core);
    }

    @Test
    void theFileFormatsKnowOnlyTheTensorTypes() {
        noClasses().that().resideInAPackage("io.kvcache.core.format..")
                .should().dependOnClassesThat().resideInAnyPackage("io.kvcache.core.model..", "io.kvcache.core.kv..",
                        "io.kvcache.core.backend..", "io.kvcache.core.cpu..", "io.kvcache.core.generate..",
                        "io.kvcache.core.sampling..", "io.kvcache.core.tokenizer..", "io.kvcache.core.chat..",
                        "io.kvcache.core.eval..", "io.kvcache.core.grammar..")
                .check(core);
    }

    @Test
    void theCacheDoesNotKnowHowItIsComputed() {
        noClasses().that().resideInAPackage("io.kvcache.core.kv..")
                .should().dependOnClassesThat().resideInAnyPackage("io.kvcache.core.backend..", "io.kvcache.core.cpu..",
                        "io.kvcache.core.generate..", "io.kvcache.core.eval..")
                .check(core);
    }

    @Test
    void onlyTheCpuBackendNamesItsForwardPass() {
        noClasses().that().resideOutsideOfPackage("io.kvcache.core.cpu..")
                .should().dependOnClassesThat().resideInAPackage("io.kvcache.core.cpu..")
                .check(core);
    }
}
