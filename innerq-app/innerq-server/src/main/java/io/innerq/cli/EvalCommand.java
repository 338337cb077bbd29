package io.innerq.cli;

import io.innerq.serving.Backend;
import io.innerq.serving.BackendKind;
import io.innerq.serving.EngineSettings;
import io.innerq.serving.ModelResolver;
import io.innerq.serving.ModelSource;
import io.innerq.cache.KvMode;
import io.innerq.eval.CacheModeEvaluator;
import io.innerq.eval.EvalText;
import io.innerq.eval.ModeScore;
import io.innerq.model.LlamaModel;
import io.innerq.model.WeightCheck;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code innerq eval}: perplexity, KL divergence and top-1 agreement of KV cache modes against the fp32 cache,
 * teacher-forced over a text, all modes in one run. Writes {@code PREFIX.json}, {@code PREFIX.md} and a chart
 * {@code PREFIX.png} (perplexity against bits per element), and prints the table (or the JSON with {@code --json}).
 */
final class EvalCommand {

    private EvalCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws IOException {
        var cli = CliArguments.parse("eval", args,
                Set.of("model", "text", "kv", "chunk", "max-windows", "prefill", "out", "threads", "backend"),
                Set.of("json", "check-weights"));
        Path textFile = Path.of(cli.require("text"));
        List<KvMode> modes = cli.kvModes("kv", "all");
        ModelSource source = ModelResolver.fromEnvironment().resolve(cli.get("model"));
        BackendKind kind = cli.backend(BackendKind.CPU);
        int maxWindows = cli.integer("max-windows", 1, "windows to score").orElse(Integer.MAX_VALUE);
        int prefill = cli.integer("prefill", 1, "tokens run as the prompt").orElse(1);
        int threads = cli.integer("threads", 0, EngineSettings.MAX_THREADS, "0: one per core").orElse(0);
        var chunk = cli.integer("chunk", 2, "tokens per window");
        String text = Files.readString(textFile, StandardCharsets.UTF_8);

        try (LlamaModel model = source.load(cli.flag("check-weights") ? WeightCheck.ALL : WeightCheck.NORMS);
             Backend backend = Backend.open(kind, threads)) {
            int context = model.config().contextLength();
            List<int[]> windows = chunk.isPresent()
                    ? EvalText.chunks(model.tokenizer(), text, chunk.get(), context, maxWindows)
                    : EvalText.documents(model.tokenizer(), text, context, maxWindows);
            if (windows.isEmpty()) {
                throw new IllegalArgumentException("the text " + textFile + " yields no evaluation window");
            }
            var forward = backend.forward(model);
            long predictions = windows.stream().mapToLong(w -> w.length - 1).sum();
            err.printf("evaluating %d modes on %s: %d windows, %,d predictions, prefill %d; backend %s%n",
                    modes.size(), textFile.getFileName(), windows.size(), predictions, prefill, forward.name());
            var bar = new ProgressBar(err, "windows", windows.size());
            long t0 = System.nanoTime();
            List<ModeScore> scores = new CacheModeEvaluator(model, forward)
                    .evaluate(modes, windows, prefill, bar::update);
            bar.finish();
            double seconds = (System.nanoTime() - t0) / 1e9;

            String prefix = cli.get("out").orElse("eval-" + stem(source.fileName()) + "-" + stem(textFile));
            String table = table(model, textFile, scores);
            String json = json(model, textFile, windows.size(), prefill, scores);
            Files.writeString(Path.of(prefix + ".md"), table);
            Files.writeString(Path.of(prefix + ".json"), json);
            var points = new ArrayList<ScatterChart.Point>();
            for (ModeScore s : scores) {
                points.add(new ScatterChart.Point(s.mode().name(), s.bitsPerElement(), s.perplexity()));
            }
            ScatterChart.write(Path.of(prefix + ".png"),
                    "Perplexity by KV cache mode: %s on %s".formatted(stem(source.fileName()), textFile.getFileName()),
                    "bits per element of the quantized part (log scale)", "perplexity", points);
            out.print(cli.flag("json") ? json : table);
            out.flush();
            err.printf("done in %.0f s; wrote %s.md, %s.json and %s.png%n", seconds, prefix, prefix, prefix);
        }
        return 0;
    }

    private static String table(LlamaModel model, Path text, List<ModeScore> scores) {
        var sb = new StringBuilder();
        sb.append("| mode | bits/elt | bits/elt incl. windows | perplexity | vs fp32 | KL vs fp32 | top-1 agreement |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|\n");
        double ref = scores.stream().filter(s -> s.mode().equals(KvMode.FP32)).mapToDouble(ModeScore::perplexity)
                .findFirst().orElse(Double.NaN);
        for (ModeScore s : scores) {
            sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.4f | %s | %.5f | %.2f%% |%n",
                    s.mode().name(), s.bitsPerElement(), s.bitsAtMeanLength(), s.perplexity(),
                    Double.isNaN(ref) ? "" : String.format(Locale.ROOT, "%+.2f%%", 100 * (s.perplexity() / ref - 1)),
                    s.klDivergence(), 100 * s.top1Agreement()));
        }
        return sb.toString();
    }

    private static String json(LlamaModel model, Path text, int windows, int prefill, List<ModeScore> scores) {
        var sb = new StringBuilder();
        sb.append("{\n  \"model\": ").append(quote(model.fileName()))
                .append(",\n  \"text\": ").append(quote(text.getFileName().toString()))
                .append(",\n  \"windows\": ").append(windows)
                .append(",\n  \"prefill\": ").append(prefill)
                .append(",\n  \"modes\": [\n");
        for (int i = 0; i < scores.size(); i++) {
            ModeScore s = scores.get(i);
            sb.append(String.format(Locale.ROOT,
                    "    {\"mode\": %s, \"predictions\": %d, \"perplexity\": %.6f, \"kl_divergence\": %.8f, "
                            + "\"top1_agreement\": %.6f, \"bits_per_element\": %.4f, \"bits_per_element_with_windows\": %.4f}%s%n",
                    quote(s.mode().name()), s.predictions(), s.perplexity(), s.klDivergence(), s.top1Agreement(),
                    s.bitsPerElement(), s.bitsAtMeanLength(), i + 1 < scores.size() ? "," : ""));
        }
        return sb.append("  ]\n}\n").toString();
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static String stem(Path p) {
        return stem(p.getFileName().toString());
    }

    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
