package io.innerq.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code helm lint --strict} of the chart as it is, and of a copy whose default values break the schema. */
class ChartLintTests {

    @Test
    void chartPassesStrictLint() {
        var lint = HelmChart.lint(HelmChart.DIRECTORY);
        assertThat(lint.isFailed()).as("%s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).as("only [INFO] messages").allMatch(m -> m.startsWith("[INFO]"));
    }

    @Test
    void lintFailsWhenTheValuesBreakTheSchema(@TempDir Path copy) throws IOException {
        try (Stream<Path> files = Files.walk(HelmChart.DIRECTORY)) {
            for (Path source : files.toList()) {
                Path target = copy.resolve(HelmChart.DIRECTORY.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
        Files.writeString(copy.resolve("values.yaml"), "\nreplicas: 2\n", StandardOpenOption.APPEND);

        var lint = HelmChart.lint(copy);

        assertThat(lint.isFailed()).isTrue();
        assertThat(String.join("\n", lint.getMessages())).contains("additional properties 'replicas' not allowed");
    }
}
