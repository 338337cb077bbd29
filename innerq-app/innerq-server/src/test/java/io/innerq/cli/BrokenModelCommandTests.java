package io.innerq.cli;

import io.innerq.cli.CliTests.Run;
import io.innerq.gguf.GgufValue;
import io.innerq.testing.GgufEdit;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A model file that parses but cannot run: every command that loads it ends with one line on stderr that names the
 * file, the key or tensor, its value and what was expected, exit code 1 (a bad file), and no stack trace.
 */
class BrokenModelCommandTests {

    @TempDir
    Path dir;

    private static GgufEdit stories() {
        return GgufEdit.of(TestModels.stories260K());
    }

    private static GgufEdit withTokens(int n) {
        GgufEdit e = stories();
        String[] tokens = (String[]) ((GgufValue.Arr) e.get("tokenizer.ggml.tokens")).array().values();
        String[] resized = Arrays.copyOf(tokens, n);
        for (int i = tokens.length; i < n; i++) {
            resized[i] = "<extra" + i + ">";
        }
        int[] types = new int[n];
        Arrays.fill(types, 1);
        return e.set("tokenizer.ggml.tokens", GgufEdit.strings(resized))
                .set("tokenizer.ggml.scores", GgufValue.floats(new float[n]))
                .set("tokenizer.ggml.token_type", GgufValue.ints(types));
    }

    private Path text() {
        try {
            return java.nio.file.Files.writeString(dir.resolve("text.txt"), "Once upon a time, there was a cat.");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void assertOneLine(Run r, String... says) {
        assertThat(r.status()).as(r.err()).isEqualTo(1);
        assertThat(r.err().lines().filter(l -> l.startsWith("innerq: "))).as(r.err()).hasSize(1);
        assertThat(r.err()).contains(says).doesNotContain("\tat ", "Exception", "APPLICATION FAILED");
    }

    private static Run generate(Path model, String... more) {
        var line = new java.util.ArrayList<>(java.util.List.of("generate", "--model", model.toString(), "--prompt",
                "Once upon a time <extra600>", "--temperature", "0", "--max-tokens", "8"));
        line.addAll(java.util.List.of(more));
        return CliTests.run(line.toArray(String[]::new));
    }

    @Test
    void aTokenizerLargerOrSmallerThanTheEmbeddingIsRefusedAtLoad() {
        Path larger = withTokens(700).write(dir.resolve("larger.gguf"));
        Run r = generate(larger);
        assertOneLine(r, "larger.gguf: at byte", "metadata 'tokenizer.ggml.tokens': has 700 tokens, but "
                + "token_embd.weight has 512 rows, one per token: expected 512 tokens");
        assertThat(r.out()).as("nothing ran").isEmpty();

        assertOneLine(generate(withTokens(300).write(dir.resolve("smaller.gguf"))), "has 300 tokens");
    }

    @Test
    void anImpossibleLayerCountIsRefusedBeforeAnyAllocationWithTheMemoryItWouldNeed() {
        Path model = stories().set("llama.block_count", GgufValue.u32(Integer.MAX_VALUE)).write(dir.resolve("layers.gguf"));
        for (String command : new String[] {"generate", "plan", "eval"}) {
            Run r = switch (command) {
                case "generate" -> generate(model);
                case "plan" -> CliTests.run("plan", "--model", model.toString(), "--budget", "1GiB");
                default -> CliTests.run("eval", "--model", model.toString(), "--text", text().toString());
            };
            assertOneLine(r, "metadata 'llama.block_count': is 2147483647, but the file holds the tensors of 5 layers",
                    "would need 355.0 TiB of weights");
        }
        Run info = CliTests.run("info", "--model", model.toString());
        assertThat(info.status()).as("info shows what a file holds, runnable or not").isZero();
        assertThat(info.out()).contains("architecture not runnable:", "llama.block_count");
    }

    @Test
    void hyperParametersThatCannotComputeAreRefused() {
        assertOneLine(generate(stories().set("llama.rope.freq_base", GgufValue.f32(0)).write(dir.resolve("base.gguf"))),
                "metadata 'llama.rope.freq_base': is 0.0: expected a finite number above 0");
        assertOneLine(generate(stories().set("llama.attention.layer_norm_rms_epsilon", GgufValue.f32(-1))
                .write(dir.resolve("eps.gguf"))), "layer_norm_rms_epsilon': is -1.0");
        assertOneLine(generate(stories().f32("blk.1.ffn_norm.weight", 0, Float.NaN).write(dir.resolve("norm.gguf"))),
                "tensor 'blk.1.ffn_norm.weight': element 0 is NaN");
        assertOneLine(generate(stories().set("tokenizer.ggml.eos_token_id", GgufValue.u32(70000))
                .write(dir.resolve("eos.gguf"))), "tokenizer.ggml.eos_token_id': is 70000, outside the vocabulary of 512");
    }

    @Test
    void aNaNMatrixWeightIsFoundWithCheckWeightsAndEndsTheGenerationWithoutIt() {
        // a NaN in the embedding row of " Once" (token 403), which the prompt uses
        Path model = stories().f32("token_embd.weight", 403 * 64 + 9, Float.NaN).write(dir.resolve("nan.gguf"));
        Run checked = generate(model, "--check-weights");
        assertOneLine(checked, "tensor 'token_embd.weight': row 403, column 9 is NaN");
        assertThat(checked.out()).isEmpty();

        Run unchecked = generate(model);
        assertOneLine(unchecked, "the model nan.gguf computed a logit of NaN", "--check-weights");
        assertThat(unchecked.err()).startsWith("loaded ");
    }

    @Test
    void serveRefusesABrokenModelInOneLine() {
        Path model = withTokens(600).write(dir.resolve("tokens.gguf"));
        Run r = CliTests.run("serve", "--model", model.toString(), "--port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("the service did not start", "tokens.gguf", "has 600 tokens")
                .doesNotContain("\tat ");

        Path nan = stories().f32("blk.2.attn_v.weight", 5, Float.POSITIVE_INFINITY).write(dir.resolve("inf.gguf"));
        Run checked = CliTests.run("serve", "--model", nan.toString(), "--port", "0", "--check-weights");
        assertThat(checked.status()).isEqualTo(1);
        assertThat(checked.err()).contains("the service did not start", "tensor 'blk.2.attn_v.weight': row 0, column 5 "
                + "is Infinity");
    }
}
