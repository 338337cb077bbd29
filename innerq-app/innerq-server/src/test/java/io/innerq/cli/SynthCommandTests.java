package io.innerq.cli;

import io.innerq.cli.CliTests.Run;
import io.innerq.model.LlamaModel;
import io.innerq.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.innerq.cli.CliTests.run;
import static org.assertj.core.api.Assertions.assertThat;

class SynthCommandTests {

    @TempDir
    Path dir;

    @Test
    void writesALoadableModelAndSaysHowBigAndHowFast() throws IOException {
        Path file = dir.resolve("tiny.gguf");
        Run r = run("synth", "--shape", "tiny", "--type", "q8_0", "--out", file.toString(), "--seed", "3",
                "--context", "128");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("wrote " + file + ": " + String.format("%,d bytes", Files.size(file)))
                .containsPattern("in [0-9.]+ s \\([0-9]+ MiB/s\\)");
        assertThat(r.err()).contains("tiny:context=128, Q8_0", "seed 3");
        try (LlamaModel model = LlamaModel.load(file)) {
            assertThat(model.config().contextLength()).isEqualTo(128);
            assertThat(model.weights().wq()[0].type()).isEqualTo(GgmlType.Q8_0);
            assertThat(model.name()).isEqualTo("synthetic tiny:context=128 Q8_0 seed 3");
        }

        Run gen = run("generate", "--model", file.toString(), "--prompt", "Hello", "--max-tokens", "4",
                "--backend", "scalar");
        assertThat(gen.status()).as(gen.err()).isZero();
        assertThat(gen.out()).startsWith("Hello");
    }

    @Test
    void refusesToOverwriteWithoutForce() throws IOException {
        Path file = dir.resolve("model.gguf");
        Files.writeString(file, "precious");
        Run r = run("synth", "--shape", "tiny", "--out", file.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains(file + " exists; pass --force to replace it");
        assertThat(Files.readString(file)).isEqualTo("precious");

        Run forced = run("synth", "--shape", "tiny", "--out", file.toString(), "--force");
        assertThat(forced.status()).as(forced.err()).isZero();
        assertThat(Files.size(file)).isGreaterThan(50_000);
        assertThat(dir.toFile().list()).containsExactly("model.gguf");
    }

    @Test
    void unknownNamesListTheChoices() {
        Run shape = run("synth", "--shape", "gpt-4", "--out", dir.resolve("x.gguf").toString());
        assertThat(shape.status()).isEqualTo(1);
        assertThat(shape.err()).contains("unknown shape 'gpt-4': the presets are llama3-8b, storybooks-like, tiny");

        Run type = run("synth", "--shape", "tiny", "--type", "q2_k", "--out", dir.resolve("x.gguf").toString());
        assertThat(type.status()).isEqualTo(1);
        assertThat(type.err()).contains("unknown weight type 'q2_k': the types are f32, f16, bf16, q8_0, q4_0");

        Run missing = run("synth", "--shape", "tiny");
        assertThat(missing.status()).isEqualTo(2);
        assertThat(missing.err()).contains("'synth' needs --out");
        assertThat(dir.toFile().list()).isEmpty();
    }

    @Test
    void aMissingFolderIsNamed() {
        Path file = dir.resolve("no/such/folder/m.gguf");
        Run r = run("synth", "--shape", "tiny", "--out", file.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains(dir.resolve("no/such/folder").toString());
    }
}
