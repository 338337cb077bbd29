package io.innerq.cli;

import io.innerq.serving.Backend;
import io.innerq.serving.BackendKind;
import io.innerq.serving.EngineSettings;
import io.innerq.serving.ModelResolver;
import io.innerq.serving.ModelSource;
import io.innerq.cache.KvMode;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.GenerationResult;
import io.innerq.engine.Generator;
import io.innerq.engine.TokenSink;
import io.innerq.model.LlamaModel;
import io.innerq.model.WeightCheck;
import io.innerq.sampling.SamplingParams;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * {@code innerq bench decode}: decode speed for every combination of model, backend and KV cache mode, in one run.
 * Prints a Markdown table; the last column compares each row with the first row of its model.
 * With {@code --context-file FILE --context N} the prompt is the first N tokens of a text, so decode runs at a long
 * context.
 */
final class BenchCommand {

    private BenchCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws IOException {
        if (args.contains("--help") || args.contains("-h")) {
            throw new CliArguments.HelpRequested();
        }
        if (!args.isEmpty() && args.getFirst().equals("attention")) {
            return options(() -> attention(args.subList(1, args.size()), out));
        }
        if (!args.isEmpty() && args.getFirst().equals("step")) {
            out.flush();
            return options(() -> {
                io.innerq.vulkan.VulkanDecodeBenchmark.run(args.subList(1, args.size()).toArray(String[]::new), out);
                return 0;
            });
        }
        if (!args.isEmpty() && args.getFirst().equals("serve")) {
            return BenchServeCommand.run(args.subList(1, args.size()), out, err);
        }
        if (!args.isEmpty() && args.getFirst().equals("batch")) {
            return BenchBatchCommand.run(args.subList(1, args.size()), out, err);
        }
        if (args.isEmpty() || !args.getFirst().equals("decode")) {
            throw new CliArguments.UsageException("bench takes a benchmark name: 'bench decode', 'bench step', "
                    + "'bench attention', 'bench serve' or 'bench batch'");
        }
        var cli = CliArguments.parse("bench decode", args.subList(1, args.size()),
                Set.of("model", "backends", "kv", "tokens", "runs", "prompt", "context-file", "context", "threads",
                        "warmup-seconds"),
                Set.of("check-weights"));
        List<ModelSource> models = cli.get("model")
                .map(m -> List.of(ModelResolver.fromEnvironment().resolve(Optional.of(m))))
                .orElseGet(BenchCommand::allModels);
        List<BackendKind> backends = new ArrayList<>();
        for (String name : cli.get("backends").orElse("scalar,cpu").split(",")) {
            try {
                backends.add(BackendKind.parse(name, "--backends"));
            } catch (IllegalArgumentException e) {
                throw new CliArguments.UsageException(e.getMessage());
            }
        }
        List<KvMode> modes = cli.kvModes("kv", "fp32");
        int tokens = cli.integer("tokens", 1, "tokens to decode").orElse(128);
        int runs = cli.integer("runs", 1, "timed runs").orElse(3);
        int warmupSeconds = cli.integer("warmup-seconds", 0, 3600, "seconds of untimed runs").orElse(5);
        int threads = cli.integer("threads", 0, EngineSettings.MAX_THREADS, "0: one per core").orElse(0);
        Optional<String> contextText = cli.get("context-file")
                .map(f -> {
                    try {
                        return Files.readString(Path.of(f), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new IllegalArgumentException("cannot read --context-file " + f + ": " + e.getMessage());
                    }
                });
        int contextTokens = cli.integer("context", 1, "tokens of --context-file").orElse(0);

        out.printf("| model | backend | KV cache | prompt tokens | prefill tok/s (median of %d) | spread | "
                + "decode tok/s (median of %d) | spread | vs first row |%n", runs, runs);
        out.println("|---|---|---|---:|---:|---:|---:|---:|---:|");
        for (ModelSource source : models) {
            try (LlamaModel model = source.load(cli.flag("check-weights") ? WeightCheck.ALL : WeightCheck.NORMS)) {
                String prompt = contextText.map(t -> firstTokens(model, t, contextTokens))
                        .orElse(cli.get("prompt").orElse("Once upon a time"));
                double first = 0;
                for (BackendKind kind : backends) {
                    try (Backend backend = Backend.open(kind, threads)) {
                        var generator = new Generator(model, backend.forward(model));
                        for (KvMode mode : modes) {
                            // Stop strings none and EOS unlikely: every run does about the same work.
                            var request = GenerationRequest.of(prompt, tokens, SamplingParams.greedy())
                                    .withKvMode(mode);
                            warmUp(generator, request, kind == BackendKind.SCALAR ? 1 : 3, warmupSeconds);
                            var decode = new ArrayList<Double>();
                            var prefill = new ArrayList<Double>();
                            GenerationResult r = null;
                            for (int i = 0; i < runs; i++) {
                                r = generator.generate(request, TokenSink.IGNORE);
                                decode.add(r.decodeTokensPerSecond());
                                prefill.add(r.promptTokens() * 1e9 / r.prefillNanos());
                            }
                            double tps = median(decode);
                            if (first == 0) {
                                first = tps;
                            }
                            // One new token comes from the prefill: no decode step to time.
                            String decoded = tps > 0 ? String.format(Locale.ROOT, "%.1f (%d tokens) | %.0f%% | %.2fx",
                                    tps, r.completionTokens(), spread(decode), tps / first)
                                    : "— (%d token) | — | —".formatted(r.completionTokens());
                            out.printf(Locale.ROOT, "| %s | %s | %s | %d | %.0f | %.0f%% | %s |%n",
                                    source.fileName(), generator.forward().name(), mode.name(), r.promptTokens(),
                                    median(prefill), spread(prefill), decoded);
                            out.flush();
                        }
                    }
                }
            }
        }
        return 0;
    }

    /**
     * Runs a benchmark of the adapters' own (attention, step). They read their options first and refuse one with an
     * {@link IllegalArgumentException} that names it: a usage error here.
     */
    private static int options(java.util.function.IntSupplier benchmark) {
        try {
            return benchmark.getAsInt();
        } catch (CliArguments.UsageException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new CliArguments.UsageException(e.getMessage());
        }
    }

    /**
     * {@code bench attention [--backend cpu|vulkan] [options]}: attention alone, Llama-3-8B shapes, every cache mode in
     * one run ({@link io.innerq.cpu.AttentionBenchmark}, {@link io.innerq.vulkan.VulkanAttentionBenchmark}).
     */
    private static int attention(List<String> args, PrintStream out) {
        var rest = new ArrayList<String>();
        String backend = "cpu";
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("--backend") && i + 1 < args.size()) {
                backend = args.get(++i);
            } else {
                rest.add(args.get(i));
            }
        }
        out.flush();
        switch (backend) {
            case "cpu" -> io.innerq.cpu.AttentionBenchmark.main(rest.toArray(String[]::new));
            case "vulkan" -> io.innerq.vulkan.VulkanAttentionBenchmark.run(rest.toArray(String[]::new), out);
            default -> throw new CliArguments.UsageException("bench attention runs on --backend cpu or vulkan, not '" + backend + "'");
        }
        return 0;
    }

    /** The text of the first {@code n} tokens of {@code text} (BOS excluded). */
    private static String firstTokens(LlamaModel model, String text, int n) {
        int[] all = model.tokenizer().encode(text, false, false);
        if (n <= 0 || n > all.length) {
            throw new IllegalArgumentException("--context must be between 1 and %d for this text".formatted(all.length));
        }
        return model.tokenizer().decode(Arrays.copyOf(all, n));
    }

    /** The models of the first directory of the search path that holds any, else the embedded one. */
    private static List<ModelSource> allModels() {
        for (Path dir : ModelResolver.fromEnvironment().searchPath()) {
            List<Path> found = ModelResolver.listModels(dir);
            if (!found.isEmpty()) {
                return found.stream().<ModelSource>map(ModelSource.File::new).toList();
            }
        }
        return List.of(new ModelSource.Embedded());
    }

    /**
     * Untimed runs, at least {@code runs} of them and for at least {@code seconds}: the JIT compiles the kernels a few
     * seconds into a process (after C1's profiling), and runs timed before that measure the compilers.
     */
    private static void warmUp(Generator generator, GenerationRequest request, int runs, int seconds) {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        for (int i = 0; i < runs || System.nanoTime() < end; i++) {
            generator.generate(request, TokenSink.IGNORE);
        }
    }

    /** (max - min) / median of the runs, in percent: how far apart the fastest and the slowest run were. */
    static double spread(List<Double> values) {
        double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        double median = median(values);
        return median == 0 ? 0 : 100 * (max - min) / median;
    }

    private static double median(List<Double> xs) {
        var s = xs.stream().sorted().toList();
        return s.get(s.size() / 2);
    }
}
