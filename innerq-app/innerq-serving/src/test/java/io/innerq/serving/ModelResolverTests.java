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
                .isEqualTo(new ModelSource.File(dir.resolve(entry.fileName())));
    }

    @Test
    void withNoModelInTheSearchPathTheEmbeddedOneIsTheDefaultAndFoundByName() throws IOException {
        var resolver = new ModelResolver(List.of(dir));
        assertThat(resolver.resolve(Optional.empty())).isEqualTo(new ModelSource.Embedded());
        assertThat(resolver.resolve(Optional.of("stories260K"))).isEqualTo(new ModelSource.Embedded());
        assertThat(resolver.resolve(Optional.of("stories260K.gguf"))).isEqualTo(new ModelSource.Embedded());
        try (var model = resolver.resolve(Optional.empty()).load()) {
            assertThat(model.fileName()).isEqualTo("stories260K.gguf");
            assertThat(model.file()).isEmpty();
            assertThat(model.config().layers()).isEqualTo(5);
        }
        Path file = Files.copy(io.innerq.testing.TestModels.stories260K(), dir.resolve("a.gguf"));
        assertThat(resolver.resolve(Optional.empty())).isEqualTo(new ModelSource.File(file));
    }

    @Test
    void noModelNamesPullAndModelAsTheWaysOut() {
        var resolver = new ModelResolver(List.of(dir));

        assertThatThrownBy(() -> resolver.resolve(Optional.of("llama-3.2-1b-instruct:q4_0")))
                .isInstanceOf(ModelNotFoundException.class)
                .hasMessageContaining("no model file 'llama-3.2-1b-instruct:q4_0'")
                .hasMessageContaining("Pass --model with the path of a .gguf file, or download one with "
                        + "'innerq pull NAME' ('innerq pull --list' names them)");
    }
}
