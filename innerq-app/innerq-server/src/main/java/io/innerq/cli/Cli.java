package io.innerq.cli;

import io.innerq.serving.ModelResolver.ModelNotFoundException;
import io.innerq.engine.NonFiniteLogitsException;
import io.innerq.gguf.GgufFormatException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Dispatches {@code innerq <command> [options]}. Results go to stdout, logs and errors to stderr. */
public final class Cli {

    /** Each command's help: what {@code innerq <command> --help} prints. */
    static final Map<String, String> HELP = new LinkedHashMap<>();

    static {
        HELP.put("info", """
                usage: innerq info [--model FILE]
                  metadata, shapes and tensor types of a GGUF model
                """);
        HELP.put("generate", """
                usage: innerq generate --prompt TEXT [--model FILE] [options]
                  complete a prompt; the prompt and the text go to stdout, logs to stderr
                  --max-tokens N        tokens to generate (default: 64 steps from BOS, prompt included; --chat 512)
                  --temperature T       0 for greedy decoding (default 0.8)
                  --top-k K, --top-p P, --min-p P, --repeat-penalty R, --seed S
                                        sampling, llama.cpp's defaults 40, 0.95, 0.05, 1 (off)
                  --stop TEXT           end before this text
                  --kv MODE             KV cache mode (default fp32; see README.md)
                  --backend B           cpu (default), vulkan, scalar or auto
                  --threads N           CPU threads, 0 to 1024 (default 0: one per core)
                  --chat [--system TEXT]
                                        the prompt as a user message through the model's chat template
                  --check-weights       read every weight at load and refuse the model if one is NaN or infinite
                """);
        HELP.put("eval", """
                usage: innerq eval --text FILE [--model FILE] [options]
                  perplexity, KL divergence and top-1 agreement of KV cache modes against the fp32 cache, all modes
                  in one pass; writes PREFIX.md, PREFIX.json and PREFIX.png
                  --kv MODE,...|all     the modes (default all)
                  --chunk N             windows of N tokens of the text (default: each document alone)
                  --max-windows N, --prefill N, --out PREFIX, --json, --backend B, --threads N, --check-weights
                """);
        HELP.put("plan", """
                usage: innerq plan --budget SIZE [--model FILE] [--kv MODE,...|all]
                  tokens of KV cache that fit in a memory budget (e.g. 2GiB; 1 byte to 8 EiB), per mode
                """);
        HELP.put("bench", """
                usage: innerq bench decode|step|attention|serve|batch [options]   (innerq bench <name> --help)
                  bench decode [--model FILE] [--backends scalar,cpu] [--kv MODE,...] [--tokens N] [--runs N]
                               [--prompt TEXT | --context-file FILE --context N] [--threads N] [--check-weights]
                               [--warmup-seconds N]
                                        prefill and decode speed of each model, backend and KV mode
                                        (median and spread of the timed runs, after N s of untimed ones)
                  bench step --model FILE[,FILE] [--contexts 1k,8k,32k] [--kv MODE,...] [--tokens N] [--runs N] [--json]
                             [--products auto|float|int|dot,...] [--no-profile]
                                        the whole token step on the Vulkan GPU at long contexts: against its
                                        bytes floor, and GPU time per kernel kind
                  bench attention [--backend cpu|vulkan] [--contexts 1k,...,32k] [--modes MODE,...|all] [--runs N] [--json]
                                        attention alone, Llama-3-8B shapes, every KV mode
                  bench serve [--model FILE] [--clients N] [--seconds N] [--max-requests N] [--max-tokens N]
                              [--concurrency N] [--kv-budget SIZE] [--kv MODE] [--threads N] [--backend B]
                              [--sample-seconds N] [--check-weights]
                                        the service in-process on loopback under streaming clients
                  bench batch [--model FILE] [--backends cpu,vulkan] [--kv MODE,...|all] [--clients 1,2,4,8]
                              [--seconds N] [--warmup-seconds N] [--max-tokens N] [--threads N] [--kv-budget SIZE]
                                        decode tokens/s and time per output token at each number of streams
                """);
        HELP.put("synth", """
                usage: innerq synth --shape llama3-8b|storybooks-like|tiny[:key=value,...] --out FILE
                                    [--type q4_0|q8_0|f16|bf16|f32] [--seed N] [--context N] [--force]
                  a model of a real shape with random weights, for benchmarks
                """);
        HELP.put("pull", """
                usage: innerq pull URL|NAME [--sha256 HEX] [--force]
                       innerq pull --list
                  downloads a GGUF file into ~/.cache/innerq/models (resumable; checked against its SHA-256 and
                  its GGUF header before it takes its name), where --model NAME finds it; --list names the catalog
                """);
        HELP.put("serve", """
                usage: innerq serve [--model FILE] [--port N] [--host ADDRESS] [--kv MODE] [--kv-budget SIZE]
                                    [--backend B] [--threads N] [--concurrency N] [--check-weights]
                                    [--name=value ...]
                  the OpenAI-compatible HTTP service and the actuator, on 127.0.0.1:8080 by default
                  --model FILE          spring.ai.innerq.model (default: the first model of the search path,
                                        else the embedded stories260K)
                  --port N              server.port, 0 to 65535 (0: any free port)
                  --host ADDRESS        server.address; beyond loopback, API keys are required (innerq.api-keys)
                  --kv MODE             spring.ai.innerq.kv.mode (default innerq-small)
                  --kv-budget SIZE      spring.ai.innerq.kv.budget (default 1GB)
                  --backend B           spring.ai.innerq.backend: auto (default), cpu, vulkan or scalar
                  --threads N           spring.ai.innerq.threads, 0 to 1024 (default 0: one per core)
                  --concurrency N       spring.ai.innerq.concurrency: generations at once, 1 to 1024 (default 1)
                  --check-weights       spring.ai.innerq.check-weights=true: read every weight at load and refuse
                                        the model if one is NaN or infinite
                  --name=value          any Spring property; InnerQ's are spring.ai.innerq.* and innerq.*
                                        (README.md lists them); also from the environment, e.g.
                                        SPRING_AI_INNERQ_KV_BUDGET=4GB
                """);
    }

    static final String USAGE = """
            usage: innerq <command> [options]          (innerq <command> --help for its options)

            commands:
              info       metadata, shapes and tensor types of a GGUF model
              generate   complete a prompt
              eval       perplexity, KL divergence and top-1 agreement of KV cache modes
              plan       tokens of KV cache that fit in a memory budget
              bench      speed benchmarks: decode, step, attention, serve, batch
              synth      a model of a real shape with random weights, for benchmarks
              pull       download a GGUF model by name or URL
              serve      the OpenAI-compatible HTTP service (127.0.0.1:8080)
              help       this text

            --model takes a path or a model name looked up in $INNERQ_MODEL_PATH, ./models, ../shared/models
            and ~/.cache/innerq/models; without it the first model found there is used, else the embedded
            default model (stories260K). 'innerq pull NAME' downloads one there.
            """;

    private Cli() {
    }

    /**
     * Runs a command; returns the process exit code: 0 ok, 1 failure (a model file that is malformed or cannot run,
     * a request that does not fit it, a file that cannot be read), 2 usage (an option that is unknown, missing or out
     * of its range). Every error is one line on {@code err}.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            if (args.length > 1 && HELP.containsKey(args[1])) {
                out.print(HELP.get(args[1]));
                return 0;
            }
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
        } catch (CliArguments.HelpRequested e) {
            out.print(HELP.getOrDefault(args[0], USAGE));
            return 0;
        } catch (CliArguments.UsageException e) {
            err.println("innerq: " + e.getMessage() + (HELP.containsKey(args[0])
                    ? "; run 'innerq " + args[0] + " --help' for its options" : "; run 'innerq help' for usage"));
            return 2;
        } catch (ModelNotFoundException | GgufFormatException | IllegalArgumentException
                 | NonFiniteLogitsException e) {
            // a model file that cannot run, ContextLengthExceededException, a model that computes NaN
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
