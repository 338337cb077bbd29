package io.innerq.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/** The domain depends on java.* only: no Spring, no LWJGL, no Vector API (it is an incubator module, jdk.*). */
class DomainPurityTests {

    private final JavaClasses domain = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.innerq");

    @Test
    void domainDependsOnJavaOnly() {
        assertThat(domain).as("domain classes imported").hasSizeGreaterThan(20);
        noClasses().should().dependOnClassesThat()
                .resideOutsideOfPackages("java..", "io.innerq..")
                .because("the domain is pure Java; frameworks and hardware APIs belong to adapters")
                .check(domain);
    }

    @Test
    void domainHoldsNoAdapterPackages() {
        noClasses().should().resideInAnyPackage("io.innerq.cpu..", "io.innerq.vulkan..", "io.innerq.serving..", "io.innerq.ai..",
                "io.innerq.autoconfigure..", "io.innerq.server..", "io.innerq.cli..")
                .check(domain);
    }
}
