package io.innerq.cli;

import io.innerq.serving.ModelResolver.ModelNotFoundException;
import io.innerq.gguf.GgufFormatException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;

/** Dispatches {@code innerq <command> [options]}. Results go to stdout, logs and errors to stderr. */
public final class Cli {

    static final String USAGE = """
            usage: innerq <command> [options]

            commands:
              info      --model FILE                     model metadata, shapes and tensor types
              generate  --model FILE --prompt TEXT       complete a prompt
                        [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--min-p P]
                        [--repeat-penalty R] [--seed S] [--stop TEXT] [--kv MODE] [--threads N] [--backend cpu|vulkan|scalar]
                        [--chat [--system TEXT]]
              eval      --model FILE --text FILE [--kv MODE,...|all] [--chunk N] [--max-windows N]
                        [--prefill N] [--out PREFIX] [--json]
                                                         perplexity, KL and top-1 agreement of KV cache modes
              plan      --model FILE --budget SIZE [--kv MODE,...|all]
                                                         tokens of KV cache that fit in a memory budget
              bench decode [--model FILE] [--backends scalar,cpu] [--kv MODE,...] [--tokens N] [--runs N]
                        [--context-file FILE --context N]
                                                         decode speed of each model, backend and KV mode
              bench step --model FILE[,FILE] [--contexts 1k,8k,32k] [--kv MODE,...] [--tokens N] [--runs N] [--json]
                                                         the whole token step on the Vulkan GPU at long contexts
              bench attention [--backend cpu|vulkan] [--contexts 1k,...,32k] [--modes MODE,...|all] [--runs N] [--json]
                                                         attention alone, Llama-3-8B shapes, every KV mode
              bench serve [--model FILE] [--clients N] [--seconds N] [--max-requests N] [--max-tokens N]
                        [--concurrency N] [--kv-budget SIZE] [--kv MODE] [--threads N] [--backend B] [--sample-seconds N]
                                                         the service in-process on loopback under streaming clients
              synth     --shape llama3-8b|storybooks-like|tiny[:key=value,...] --out FILE
                        [--type q4_0|q8_0|f16|bf16|f32] [--seed N] [--context N] [--force]
                                                         a model of that shape with random weights, for benchmarks
              pull      URL|NAME [--sha256 HEX] [--force]
                                                         download a GGUF file into ~/.cache/innerq/models,
                                                         resumably, checked; 'pull --list' names the catalog
              serve     [--model FILE] [--port N] [--host ADDRESS] [--property=value ...]
                                                         the OpenAI-compatible HTTP service and actuator
                                                         (127.0.0.1:8080 by default; see README.md)
              help                                       this text

            --model takes a path or a model name looked up in $INNERQ_MODEL_PATH, ./models, ../shared/models
            and ~/.cache/innerq/models; without it the first model found there is used. 'innerq pull NAME'
            downloads one there.
            """;

    private Cli() {
    }

    /** Runs a command; returns the process exit code (0 ok, 1 failure, 2 usage). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        try {
            return switch (args[0]) {
                case "info" -> InfoCommand.run(rest, out);
                case "generate" -> GenerateCommand.run(rest, out, err);
                case "bench" -> BenchCommand.run(rest, out, err);
                case "eval" -> EvalCommand.run(rest, out, err);
                case "plan" -> PlanCommand.run(rest, out);
                case "serve" -> ServeCommand.run(rest, err);
                case "synth" -> SynthCommand.run(rest, out, err);
                case "pull" -> PullCommand.run(rest, out, err);
                default -> throw new CliArguments.UsageException("unknown command '" + args[0] + "'");
            };
        } catch (CliArguments.UsageException e) {
            err.println("innerq: " + e.getMessage());
            err.println("run 'innerq help' for usage");
            return 2;
        } catch (ModelNotFoundException | GgufFormatException | IllegalArgumentException e) {
            // includes ContextLengthExceededException and invalid options (sampling, KV mode)
            err.println("innerq: " + e.getMessage());
            return 1;
        } catch (NoSuchFileException e) {
            err.println("innerq: no such file: " + e.getFile());
            return 1;
        } catch (IOException e) {
            err.println("innerq: cannot read: " + e.getMessage());
            return 1;
        }
    }
}
