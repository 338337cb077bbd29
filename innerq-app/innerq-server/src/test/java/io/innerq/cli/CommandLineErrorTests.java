package io.innerq.cli;

import io.innerq.cli.CliTests.Run;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every malformed or out-of-range option of every command is refused before anything loads, in one line on stderr
 * that names the option and what it accepts, with exit code 2 and no stack trace.
 */
class CommandLineErrorTests {

    @TempDir
    Path dir;

    private final String model = TestModels.stories260K().toString();

    /** A command line and what its one line of error must contain. */
    record Bad(List<String> line, List<String> says) {
    }

    private static Bad bad(String line, String... says) {
        return new Bad(List.of(line.split(" ")), List.of(says));
    }

    private List<Bad> cases() {
        String out = dir.resolve("s.gguf").toString();
        var cases = new ArrayList<>(List.of(
                bad("generate --prompt x --max-tokens -1", "--max-tokens must be at least 0"),
                bad("generate --prompt x --max-tokens 99999999999", "--max-tokens must be between 0 and 2147483647 (tokens to generate), got 99999999999"),
                bad("generate --prompt x --threads -1", "--threads must be between 0 and 1024"),
                bad("generate --prompt x --threads 99999999", "--threads must be between 0 and 1024", "got 99999999"),
                bad("generate --prompt x --top-k -5", "--top-k must be at least 0"),
                bad("generate --prompt x --temperature NaN", "--temperature must be >= 0", "got NaN"),
                bad("generate --prompt x --temperature Infinity", "--temperature must be >= 0", "got Infinity"),
                bad("generate --prompt x --temperature 1e39", "--temperature must be >= 0", "got 1e39"),
                bad("generate --prompt x --top-p 0", "--top-p must be in (0, 1]"),
                bad("generate --prompt x --min-p 1", "--min-p must be in [0, 1)"),
                bad("generate --prompt x --repeat-penalty 0", "--repeat-penalty must be > 0"),
                bad("generate --prompt x --seed 1.5", "--seed must be a whole number from -9223372036854775808"),
                bad("eval --text x --threads 2000", "--threads must be between 0 and 1024"),
                bad("eval --text x --chunk 1", "--chunk must be at least 2"),
                bad("bench decode --threads -1", "--threads must be between 0 and 1024"),
                bad("bench decode --tokens 0", "--tokens must be at least 1"),
                bad("bench serve --clients 0", "--clients must be between 1 and 1024"),
                bad("bench serve --concurrency 5000", "--concurrency must be between 1 and 1024"),
                bad("bench serve --threads -1", "--threads must be between 0 and 1024"),
                bad("bench serve --sample-seconds -1", "--sample-seconds must be at least 0"),
                bad("bench attention --contexts abc", "--contexts takes lengths from 1 to 16777216", "'abc'"),
                bad("bench attention --contexts 0", "--contexts takes lengths from 1"),
                bad("bench attention --runs 0", "--runs must be a whole number from 1 to 2147483647"),
                bad("bench attention --warmup x", "--warmup must be a whole number from 0"),
                bad("bench attention --seed x", "--seed must be a whole number"),
                bad("bench step --model m --contexts 0", "--contexts takes lengths from 1 to 16777216"),
                bad("bench step --model m --tokens -3", "--tokens must be a whole number from 1"),
                bad("plan --budget 99999999999999999999TiB", "--budget must be between 1 byte and 9,223,372,036,854,775,807 bytes (8 EiB)"),
                bad("plan --budget 9223372036854775808", "--budget must be between 1 byte and"),
                bad("plan --budget 0", "--budget must be between 1 byte and"),
                bad("plan --budget 0.5", "--budget must be between 1 byte and"),
                bad("plan --budget -5", "--budget: '-5' is not a size", "1 byte to 8 EiB"),
                bad("synth --shape gpt-4 --out " + out, "--shape: unknown shape 'gpt-4'"),
                bad("synth --shape tiny:layers=-1 --out " + out, "--shape: shape key layers must be a positive whole number"),
                bad("synth --shape llama3-8b:layers=2147483647 --out " + out, "--shape: shape 'llama3-8b:layers=2147483647'",
                        "layers must be at most 4096"),
                bad("synth --shape tiny:dim=1048576,ffn=1048576 --out " + out, "--shape:", "at most 2^40"),
                bad("synth --shape tiny:vocab=2147483647 --out " + out, "vocab at most 2097152"),
                bad("synth --shape tiny:eps=-1 --out " + out, "--shape: shape 'tiny:eps=-1'", "eps must be positive"),
                bad("synth --shape tiny --type q2_k --out " + out, "--type: unknown weight type 'q2_k'"),
                bad("synth --shape tiny --type q8_0 --out " + out + " --context 0", "--context must be between 1 and 16777216"),
                bad("synth --shape tiny:dim=48 --type q8_0 --out " + out, "--shape and --type:", "blocks of 32"),
                bad("serve --threads -1", "--threads must be between 0 and 1024"),
                bad("serve --concurrency 99999999999", "--concurrency must be between 1 and 1024", "'99999999999'"),
                bad("serve --port nine", "--port must be between 0 and 65535", "'nine'"),
                bad("serve --spring.ai.innerq.threads=5000", "spring.ai.innerq.threads must be between 0 and 1024"),
                bad("serve --spring.ai.innerq.concurrency=99999999999", "--concurrency must be between 1 and 1024",
                        "'99999999999'"),
                bad("serve --spring.ai.innerq.kv.budget=lots", "--kv-budget lots: 'lots' is not a valid data size"),
                bad("serve --innerq.max-messages=99999999999", "--innerq.max-messages 99999999999",
                        "not a number, or not one in the range of the property's type"),
                bad("serve --innerq.max-request-size=-1", "innerq.max-request-size must be positive")));
        for (Bad b : List.copyOf(cases)) { // where a command takes a model, give it one so only the option is wrong
            if (List.of("generate", "eval", "plan", "serve").contains(b.line().getFirst())
                    || b.line().get(0).equals("bench") && b.line().get(1).equals("decode")) {
                var line = new ArrayList<>(b.line());
                line.addAll(List.of("--model", model));
                cases.set(cases.indexOf(b), new Bad(line, b.says()));
            }
        }
        return cases;
    }

    @Test
    void everyBadOptionIsOneLineThatNamesItAndItsRangeWithExitCode2() {
        for (Bad b : cases()) {
            Run r = CliTests.run(b.line().toArray(String[]::new));
            String line = String.join(" ", b.line()).replace(model, "MODEL");
            assertThat(r.status()).as(line + "\n" + r.err()).isEqualTo(2);
            assertThat(r.err().lines()).as(line + "\n" + r.err()).hasSize(1);
            assertThat(r.err()).as(line).startsWith("innerq: ").contains(b.says())
                    .contains("--help' for its options").doesNotContain("\tat ", "Exception", "For input string");
            assertThat(r.out()).as(line).isEmpty();
        }
        assertThat(dir.toFile().list()).as("nothing was written").isEmpty();
    }
}
