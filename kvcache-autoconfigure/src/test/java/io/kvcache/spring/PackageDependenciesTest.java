package io.kvcache.spring;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The Spring side is split by role and its packages depend one way: the auto-configuration on
 * everything, the actuator on the chat side, and neither the chat model nor the model locator on
 * Spring Boot's configuration properties.
 */
class PackageDependenciesTest {
    private static JavaClasses spring;

    @BeforeAll
    static void importClasses() {
        spring = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.kvcache.spring");
    }

    @Test
    void noCycleBetweenPackages() {
        slices().matching("io.kvcache.spring.(*)..").should().beFreeOfCycles().check(spring);
    }

    @Test
    void onlyTheAutoConfigurationKnowsTheProperties() {
        noClasses().that().resideOutsideOfPackage("io.kvcache.spring.autoconfigure..")
                .should().dependOnClassesThat().resideInAPackage("io.kvcache.spring.autoconfigure..")
                .check(spring);
    }

    @Test
    void theChatModelAndTheModelLocatorKnowNothingOfSpringBoot() {
        noClasses().that().resideInAnyPackage("io.kvcache.spring.chat..", "io.kvcache.spring.model..")
                .should().dependOnClassesThat().resideInAPackage("org.springframework.boot..")
                .check(spring);
    }
}
