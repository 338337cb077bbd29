package io.innerq.serving;

import io.innerq.serving.ModelResolver.ModelNotFoundException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The search path's answers that concern {@code innerq pull}: its file found by the catalog name, and the way out. */
class ModelResolverTests {

    @TempDir
    Path dir;

    @Test
    void aPulledCatalogModelIsFoundByItsName() throws IOException {
        var entry = ModelCatalog.find("smollm2-135m-instruct:q8_0").orElseThrow();
        Files.writeString(dir.resolve(entry.fileName()), "stand-in");

        assertThat(new ModelResolver(List.of(dir)).resolve(Optional.of("smollm2-135m-instruct:q8_0")))
                .isEqualTo(dir.resolve(entry.fileName()));
    }

    @Test
    void noModelNamesPullAndModelAsTheWaysOut() {
        var resolver = new ModelResolver(List.of(dir));

        assertThatThrownBy(() -> resolver.resolve(Optional.empty())).isInstanceOf(ModelNotFoundException.class)
                .hasMessageStartingWith("no model given and no .gguf file found in the search path [" + dir)
                .hasMessageContaining("Pass --model with the path of a .gguf file, or download one with "
                        + "'innerq pull NAME' ('innerq pull --list' names them)");
        assertThatThrownBy(() -> resolver.resolve(Optional.of("llama-3.2-1b-instruct:q4_0")))
                .hasMessageContaining("no model file 'llama-3.2-1b-instruct:q4_0'")
                .hasMessageContaining("'innerq pull NAME'");
    }
}
