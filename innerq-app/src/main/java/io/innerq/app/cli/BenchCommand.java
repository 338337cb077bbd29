package io.innerq.app.cli;

import io.innerq.app.Backend;
import io.innerq.app.ModelResolver;
import io.innerq.cache.KvMode;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.GenerationResult;
import io.innerq.engine.Generator;
import io.innerq.engine.TokenSink;
import io.innerq.model.LlamaModel;
import io.innerq.sampling.SamplingParams;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code innerq bench decode}: decode speed of every model in the search path (or the given ones), for each
 * backend, in one run. Prints a Markdown table; the ratio column compares each backend with the first.
 */
final class BenchCommand {

    private BenchCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws IOException {
        if (args.isEmpty() || !args.getFirst().equals("decode")) {
            throw new CliArguments.UsageException("bench takes a benchmark name: 'bench decode'");
        }
        var cli = CliArguments.parse("bench decode", args.subList(1, args.size()),
                Set.of("model", "backends", "tokens", "runs", "prompt", "threads", "kv"), Set.of());
        KvMode kv = KvMode.parse(cli.get("kv").orElse("fp32"));
        List<Path> models = cli.get("model")
                .map(m -> List.of(ModelResolver.fromEnvironment().resolve(java.util.Optional.of(m))))
                .orElseGet(BenchCommand::allModels);
        List<String> backends = List.of(cli.get("backends").orElse("scalar,cpu").split(","));
        int tokens = cli.integer("tokens").orElse(128);
        int runs = cli.integer("runs").orElse(3);
        String prompt = cli.get("prompt").orElse("Once upon a time");
        int threads = cli.integer("threads").orElse(0);

        out.printf("| model | backend | prompt tok | prefill tok/s | decode tok/s (median of %d) | vs %s |%n", runs,
                backends.getFirst());
        out.println("|---|---|---:|---:|---:|---:|");
        for (Path path : models) {
            try (LlamaModel model = LlamaModel.load(path)) {
                double first = 0;
                for (String name : backends) {
                    try (Backend backend = Backend.open(name.trim(), threads)) {
                        var generator = new Generator(model, backend.matVec(), backend.caches());
                        // A fixed number of tokens: no EOS stop, so every run does the same work.
                        var request = GenerationRequest.of(prompt, tokens, SamplingParams.greedy()).withKvMode(kv);
                        int warmups = name.trim().equals("scalar") ? 1 : 3;
                        for (int i = 0; i < warmups; i++) {
                            generator.generate(request, TokenSink.IGNORE);
                        }
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
                        out.printf(Locale.ROOT, "| %s | %s | %d | %.0f | %.1f (%d tokens) | %.2fx |%n",
                                path.getFileName(), backend.matVec().name(), r.promptTokens(), median(prefill), tps,
                                r.completionTokens(), tps / first);
                        out.flush();
                    }
                }
            }
        }
        return 0;
    }

    private static List<Path> allModels() {
        for (Path dir : ModelResolver.fromEnvironment().searchPath()) {
            List<Path> found = ModelResolver.listModels(dir);
            if (!found.isEmpty()) {
                return found;
            }
        }
        throw new ModelResolver.ModelNotFoundException("no .gguf models in the search path: pass --model FILE");
    }

    private static double median(List<Double> xs) {
        var s = xs.stream().sorted().toList();
        return s.get(s.size() / 2);
    }
}
