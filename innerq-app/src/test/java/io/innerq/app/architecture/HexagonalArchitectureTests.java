package io.innerq.app.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/** The module graph as a rule: ports in the domain, adapters around it, Spring only at the edge. */
class HexagonalArchitectureTests {

    private static final String[] DOMAIN = {"io.innerq.gguf..", "io.innerq.tensor..", "io.innerq.model..",
            "io.innerq.tokenizer..", "io.innerq.chat..", "io.innerq.sampling..", "io.innerq.engine..",
            "io.innerq.port..", "io.innerq.cache..", "io.innerq.quant.."};

    private final JavaClasses all = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.innerq");

    @Test
    void everyModuleIsImported() {
        assertThat(all.containPackage("io.innerq.engine")).isTrue();
        assertThat(all.containPackage("io.innerq.cpu")).isTrue();
        assertThat(all.containPackage("io.innerq.app")).isTrue();
    }

    @Test
    void springOnlyInTheApplication() {
        noClasses().that().resideOutsideOfPackage("io.innerq.app..")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..")
                .check(all);
    }

    @Test
    void theServingCoreIsPlainJava() {
        noClasses().that().resideInAPackage("io.innerq.app.serving..")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "io.innerq.app.server..",
                        "io.innerq.app.ai..", "io.innerq.app.autoconfigure..")
                .check(all);
    }

    @Test
    void domainDependsOnNoAdapter() {
        noClasses().that().resideInAnyPackage(DOMAIN)
                .should().dependOnClassesThat().resideInAnyPackage("io.innerq.cpu..", "io.innerq.vulkan..",
                        "io.innerq.app..", "org.lwjgl..", "jdk.incubator..")
                .check(all);
    }

    @Test
    void adaptersDoNotDependOnEachOther() {
        noClasses().that().resideInAPackage("io.innerq.cpu..")
                .should().dependOnClassesThat().resideInAnyPackage("io.innerq.vulkan..", "io.innerq.app..")
                .check(all);
        noClasses().that().resideInAPackage("io.innerq.vulkan..")
                .should().dependOnClassesThat().resideInAnyPackage("io.innerq.cpu..", "io.innerq.app..")
                .check(all);
    }
}
