package io.innerq.serving;

import io.innerq.serving.ModelCatalog.Entry;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/** The built-in catalog: names, URLs and pins are well formed, and the names are found. */
class ModelCatalogTests {

    @Test
    void everyEntryIsAHuggingFaceResolveUrlOfAGgufOfItsQuantization() {
        var names = new HashSet<String>();
        for (Entry e : ModelCatalog.entries()) {
            assertThat(names.add(e.name())).as("unique name %s", e.name()).isTrue();
            assertThat(e.name()).matches("[a-z0-9.-]+:(q4_0|q8_0)");
            assertThat(e.url().toString()).startsWith("https://huggingface.co/").contains("/resolve/main/");
            assertThat(e.fileName()).endsWith(".gguf");
            String quant = e.name().substring(e.name().indexOf(':') + 1);
            assertThat(e.fileName().toLowerCase(Locale.ROOT)).contains(quant);
            assertThat(e.title()).containsIgnoringCase(quant);
            assertThat(e.sha256().isPresent()).as("%s has a size with its digest", e.name())
                    .isEqualTo(e.size().isPresent());
        }
        assertThat(names).contains("tinyllama-1.1b-chat:q4_0", "smollm2-135m-instruct:q8_0",
                "smollm2-360m-instruct:q8_0", "llama-3.2-1b-instruct:q4_0", "llama-3.2-1b-instruct:q8_0");
    }

    @Test
    void theEntriesWithoutAPublishedDigestAreKnown() {
        assertThat(ModelCatalog.entries().stream().filter(e -> e.sha256().isEmpty()).map(Entry::name))
                .containsExactly("smollm2-135m-instruct:q4_0");
    }

    @Test
    void namesAreFoundInAnyCaseAndByTheirModel() {
        assertThat(ModelCatalog.find("SmolLM2-135M-Instruct:Q8_0")).map(Entry::fileName)
                .contains("SmolLM2-135M-Instruct-Q8_0.gguf");
        assertThat(ModelCatalog.find("smollm2-135m-instruct")).isEmpty();
        assertThat(ModelCatalog.startingWith("llama-3.2-1b-instruct")).extracting(Entry::name)
                .containsExactly("llama-3.2-1b-instruct:q4_0", "llama-3.2-1b-instruct:q8_0");
    }
}
