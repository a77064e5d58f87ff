package dev.continuum;

import com.tngtech.archunit.ArchConfiguration;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seams the architecture rests on, checked on the compiled main classes: the engine plans and samples through
 * the {@code runner} interfaces and the host-side {@code kvcache} block manager, and never reaches the CPU model,
 * its kernels or the file loaders; the seam itself and the block manager depend on nothing of ours; and no two
 * packages depend on each other.
 */
class PackageRulesTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // Only our own packages matter; resolving every library class they touch would take seconds.
        ArchConfiguration.get().setResolveMissingDependenciesFromClassPath(false);
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.continuum");
        assertTrue(classes.size() > 100, "the main classes were found: " + classes.size());
    }

    @Test
    void packagesFormNoCycles() {
        slices().matching("dev.continuum.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void engineKnowsOnlyTheRunnerSeam() {
        noClasses().that().resideInAPackage("dev.continuum.engine..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.continuum.model..", "dev.continuum.tensor..",
                        "dev.continuum.loader..")
                .because("the engine runs any backend through ModelRunner; only composition roots pick one")
                .check(classes);
    }

    @Test
    void runnerSeamDependsOnNothingOfOurs() {
        noClasses().that().resideInAPackage("dev.continuum.runner..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.continuum.engine..", "dev.continuum.model..",
                        "dev.continuum.tensor..", "dev.continuum.loader..", "dev.continuum.kvcache..",
                        "dev.continuum.server..", "dev.continuum.api..")
                .check(classes);
    }

    @Test
    void blockManagerIsHostSideOnly() {
        noClasses().that().resideInAPackage("dev.continuum.kvcache..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.continuum.engine..", "dev.continuum.model..",
                        "dev.continuum.tensor..", "dev.continuum.runner..", "dev.continuum.loader..")
                .because("it names blocks; the runner owns what is in them")
                .check(classes);
    }

    @Test
    void modelAndKernelsDoNotReachUpIntoTheServer() {
        noClasses().that().resideInAnyPackage("dev.continuum.model..", "dev.continuum.tensor..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.continuum.engine..", "dev.continuum.server..",
                        "dev.continuum.api..", "dev.continuum.cli..")
                .check(classes);
    }
}
