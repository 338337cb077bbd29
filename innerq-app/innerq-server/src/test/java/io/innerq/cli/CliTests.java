package io.innerq.cli;

import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line in process: real model files, real output streams. */
class CliTests {

    static final String REFERENCE = "Once upon a time, there was a little girl named Lily. She loved to play outside "
            + "in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily";

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int status = Cli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private final String stories = TestModels.stories260K().toString();

    @Test
    void generatePrintsTheReferenceGreedyText() {
        Run r = run("generate", "--model", stories, "--prompt", "Once upon a time", "--temperature", "0");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(REFERENCE + "\n");
        assertThat(r.err()).contains("tok/s");
    }

    @Test
    void generateWithAQuantizedCacheRuns() {
        Run r = run("generate", "--model", stories, "--prompt", "Once upon a time", "--temperature", "0",
                "--kv", "innerq-small", "--max-tokens", "20");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Once upon a time, there was");
    }

    @Test
    void benchDecodeOfOneTokenTimesThePrefillAlone() {
        Run r = run("bench", "decode", "--model", stories, "--backends", "cpu", "--kv", "fp32,q8_0", "--tokens", "1",
                "--runs", "2", "--warmup-seconds", "0", "--threads", "1");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("\\| fp32 \\| 5 \\| \\d+ \\| \\d+% \\| — \\(1 token\\) \\| — \\| — \\|")
                .contains("| q8_0 | 5 |").doesNotContain("NaN", "Infinity");
    }

    @Test
    void benchServeStopsByItselfAndPrintsATable() {
        Run r = run("bench", "serve", "--model", stories, "--clients", "2", "--seconds", "1", "--max-requests", "3",
                "--max-tokens", "8", "--kv-budget", "16MB");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("| model | stories260K |", "| clients (streaming) / generation slots | 2 / 1 |",
                "| errors | 0 |", "| time to first token p50 (ms) |", "| generated tokens/s (all streams) |");
        assertThat(r.out()).containsPattern("\\| requests served \\| [1-3] \\|");
    }

    @Test
    void benchServeRefusesNoClients() {
        Run r = run("bench", "serve", "--clients", "0");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--clients must be between 1 and 1024");
    }

    @Test
    void infoShowsShapesAndTypes() {
        Run r = run("info", "--model", stories);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("GGUF v3", "dim 64, 5 layers, 8 heads, 4 KV heads, head_dim 8",
                "token_embd.weight", "F32", "[64, 512]", "none (plain completion)");
    }

    @Test
    void aMissingModelSaysWhatToPass() {
        Run r = run("generate", "--model", "/nonexistent/model.gguf", "--prompt", "x");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("/nonexistent/model.gguf", "--model");
    }

    @Test
    void aCorruptModelIsAClearError(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.gguf");
        byte[] head = Files.readAllBytes(TestModels.stories260K());
        Files.write(bad, java.util.Arrays.copyOf(head, 4000)); // truncated inside the metadata
        Run r = run("info", "--model", bad.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("bad.gguf", "at byte", "truncated");
    }

    @Test
    void tooManyTokensIsAClearError() {
        Run r = run("generate", "--model", stories, "--prompt", "Once upon a time", "--max-tokens", "5000");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("context holds 2048", "at most 2043");
    }

    @Test
    void usageErrorsNameTheOption() {
        Run r = run("generate", "--model", stories, "--prompt", "x", "--temprature", "0");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--temprature", "--temperature");
        Run n = run("generate", "--model", stories, "--prompt", "x", "--max-tokens", "ten");
        assertThat(n.status()).isEqualTo(2);
        assertThat(n.err()).contains("--max-tokens must be a whole number");
        Run k = run("generate", "--model", stories, "--prompt", "x", "--kv", "innerq-7");
        assertThat(k.status()).isEqualTo(2);
        assertThat(k.err()).contains("unknown KV cache mode 'innerq-7'");
        String[][] malformed = {{"--max-tokens", "-1", "--max-tokens must be at least 0"},
                {"--threads", "-1", "--threads must be between 0 and 1024"}, {"--top-p", "1.5", "top-p must be in (0, 1]"},
                {"--temperature", "-2", "temperature must be >= 0"}, {"--backend", "gpu", "unknown backend 'gpu'"},
                {"--kv", "fp32,fp16", "--kv takes one KV cache mode"}};
        for (String[] m : malformed) {
            Run bad = run("generate", "--model", stories, "--prompt", "x", m[0], m[1]);
            assertThat(bad.status()).as(String.join(" ", m)).isEqualTo(2);
            assertThat(bad.err()).contains(m[2], "innerq generate --help");
        }
        Run e = run("eval", "--model", stories, "--text", stories, "--max-windows", "0");
        assertThat(e.status()).isEqualTo(2);
        assertThat(e.err()).contains("--max-windows must be at least 1");
    }

    @Test
    void everyCommandAnswersHelpWithItsOptions() {
        for (String command : Cli.HELP.keySet()) {
            for (String flag : new String[]{"--help", "-h"}) {
                Run r = run(command, flag);
                assertThat(r.status()).as(command + " " + flag + ": " + r.err()).isZero();
                assertThat(r.out()).startsWith("usage: innerq " + command);
                assertThat(r.err()).isEmpty();
            }
            assertThat(run("help", command).out()).isEqualTo(Cli.HELP.get(command));
        }
        for (String[] line : new String[][]{{"bench", "decode", "--help"}, {"bench", "serve", "-h"},
                {"bench", "step", "--help"}, {"generate", "--prompt", "x", "--help"}, {"pull", "-h"}}) {
            Run r = run(line);
            assertThat(r.status()).as(String.join(" ", line)).isZero();
            assertThat(r.out()).startsWith("usage: innerq " + line[0]);
        }
        Run top = run("--help");
        assertThat(top.status()).isZero();
        assertThat(top.out()).contains("innerq <command> --help");
        Run none = run();
        assertThat(none.status()).isEqualTo(2);
        assertThat(run("frobnicate").status()).isEqualTo(2);
    }

    @Test
    void evalWritesTableJsonAndChart(@TempDir Path dir) {
        Path text = TestModels.requireShared("heldout.txt");
        String prefix = dir.resolve("ev").toString();
        Run r = run("eval", "--model", stories, "--text", text.toString(), "--kv", "fp32,fp16,innerq-small",
                "--max-windows", "2", "--out", prefix);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("| fp32 |", "| fp16 |", "| innerq-small |");
        assertThat(dir.resolve("ev.json")).content().contains("\"perplexity\"", "\"innerq-small\"");
        assertThat(dir.resolve("ev.png")).isNotEmptyFile();
    }
}
