package io.innerq.cli;

import io.innerq.cli.CliTests.Run;
import io.innerq.model.LlamaModel;
import io.innerq.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

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
        assertThat(shape.status()).isEqualTo(2);
        assertThat(shape.err()).contains("--shape: unknown shape 'gpt-4': the presets are llama3-8b, storybooks-like, tiny");

        Run type = run("synth", "--shape", "tiny", "--type", "q2_k", "--out", dir.resolve("x.gguf").toString());
        assertThat(type.status()).isEqualTo(2);
        assertThat(type.err()).contains("--type: unknown weight type 'q2_k': the types are f32, f16, bf16, q8_0, q4_0");

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

    /**
     * {@code innerq synth} in its own JVM, stopped (SIGTERM, as by Ctrl-C or a container stop) while it writes: the
     * partial file is gone and no model file is left.
     */
    @Test
    void aSynthStoppedWhileWritingLeavesNoPartialFile() throws Exception {
        Path file = dir.resolve("big.gguf");
        Path partial = dir.resolve("big.gguf.partial");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // about 1.9 GB: it is stopped after its first megabytes
        Process synth = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), InnerqMain.class.getName(),
                "synth", "--shape", "llama3-8b:layers=1,vocab=32768", "--type", "f32", "--out", file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("synth.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!(Files.exists(partial) && Files.size(partial) > (4 << 20))) {
                assertThat(synth.isAlive()).as("synth ended early: " + Files.readString(dir.resolve("synth.log")))
                        .isTrue();
                assertThat(System.nanoTime()).as("synth started writing within 60 s").isLessThan(deadline);
                Thread.sleep(10);
            }
            synth.destroy(); // SIGTERM
            assertThat(synth.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            synth.destroyForcibly();
        }
        assertThat(synth.exitValue()).as("stopped by the signal, not finished").isEqualTo(143);
        assertThat(partial).doesNotExist();
        assertThat(file).doesNotExist();
    }
}
