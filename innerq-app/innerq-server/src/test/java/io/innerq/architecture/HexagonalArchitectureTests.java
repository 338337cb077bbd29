package io.innerq.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The module graph as rules: ports in the domain, adapters around it, Spring only at the edge; the serving core
 * knows no Spring, the Spring AI model knows no web and no Boot, and only the server has a web server.
 */
class HexagonalArchitectureTests {

    private static final String[] DOMAIN = {"io.innerq.gguf..", "io.innerq.tensor..", "io.innerq.model..",
            "io.innerq.tokenizer..", "io.innerq.chat..", "io.innerq.sampling..", "io.innerq.engine..",
            "io.innerq.port..", "io.innerq.cache..", "io.innerq.quant..", "io.innerq.eval.."};
    private static final String[] SPRING_EDGE = {"io.innerq.ai..", "io.innerq.autoconfigure..", "io.innerq.server..",
            "io.innerq.cli.."};
    private static final String[] WEB = {"org.springframework.web..", "org.springframework.http..",
            "org.springframework.boot.web..", "org.springframework.boot.tomcat..", "jakarta.servlet..",
            "org.apache.catalina.."};

    private final JavaClasses all = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.innerq");

    @Test
    void everyModuleIsImported() {
        for (String p : new String[]{"io.innerq.engine", "io.innerq.cpu", "io.innerq.vulkan", "io.innerq.serving",
                "io.innerq.ai", "io.innerq.autoconfigure", "io.innerq.server", "io.innerq.cli"}) {
            assertThat(all.containPackage(p)).as(p).isTrue();
        }
    }

    @Test
    void springOnlyAtTheEdge() {
        noClasses().that().resideOutsideOfPackages(SPRING_EDGE)
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..")
                .check(all);
    }

    @Test
    void theServingCoreIsPlainJava() {
        noClasses().that().resideInAPackage("io.innerq.serving..")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "io.innerq.ai..",
                        "io.innerq.autoconfigure..", "io.innerq.server..", "io.innerq.cli..",
                        "io.github.resilience4j..")
                .check(all);
    }

    @Test
    void theSpringAiModelKnowsNoWebAndNoBoot() {
        noClasses().that().resideInAPackage("io.innerq.ai..")
                .should().dependOnClassesThat().resideInAnyPackage(WEB)
                .orShould().dependOnClassesThat().resideInAnyPackage("org.springframework.boot..",
                        "io.innerq.autoconfigure..", "io.innerq.server..", "io.innerq.cli..")
                .check(all);
    }

    @Test
    void onlyTheServerHasAWebServer() {
        noClasses().that().resideOutsideOfPackages("io.innerq.server..", "io.innerq.cli..")
                .should().dependOnClassesThat().resideInAnyPackage(WEB)
                .check(all);
        noClasses().that().resideInAPackage("io.innerq.autoconfigure..")
                .should().dependOnClassesThat().resideInAnyPackage("io.innerq.server..", "io.innerq.cli..")
                .check(all);
    }

    @Test
    void domainDependsOnNoAdapter() {
        noClasses().that().resideInAnyPackage(DOMAIN)
                .should().dependOnClassesThat().resideInAnyPackage("io.innerq.cpu..", "io.innerq.vulkan..",
                        "io.innerq.serving..", "io.innerq.ai..", "io.innerq.autoconfigure..", "io.innerq.server..",
                        "io.innerq.cli..", "org.lwjgl..", "jdk.incubator..")
                .check(all);
    }

    @Test
    void adaptersDoNotDependOnEachOtherNorOnTheEdge() {
        String[] edge = {"io.innerq.serving..", "io.innerq.ai..", "io.innerq.autoconfigure..", "io.innerq.server..",
                "io.innerq.cli.."};
        noClasses().that().resideInAPackage("io.innerq.cpu..")
                .should().dependOnClassesThat().resideInAnyPackage("io.innerq.vulkan..")
                .orShould().dependOnClassesThat().resideInAnyPackage(edge)
                .check(all);
        noClasses().that().resideInAPackage("io.innerq.vulkan..")
                .should().dependOnClassesThat().resideInAnyPackage("io.innerq.cpu..")
                .orShould().dependOnClassesThat().resideInAnyPackage(edge)
                .check(all);
    }
}
