package io.innerq.vulkan;

import io.innerq.cache.InnerqConfig;
import io.innerq.cache.KvMode;
import io.innerq.model.LlamaModel;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Decode speed of the whole token step on the device ({@link VulkanForward}) at long contexts, for every model and
 * KV cache mode in one run, with the device's copy bandwidth measured in the same run.
 *
 * <p>Per model, context n and mode: a sequence whose cache is in the state of one that has run n tokens (sink,
 * quantized middle and windows as the layout defines them; fixed bit patterns as content, so no prompt has to run),
 * then {@code --tokens} decode steps (each one submission, logits read back), timed on the host: what a caller of
 * {@code step} waits. After {@code --warmup} untimed steps, the median over {@code --runs} runs of the mean time per
 * step; then one more run with GPU timestamps around each submission (the device's share of the step) and the host's
 * time recording it (medians). Bytes a step must read: every weight matrix once, plus the cache (codes, scales, zero points, fp32 windows)
 * of every layer; their time at the copy bandwidth (bytes read plus written per second) is the floor the step is
 * compared with. Then, unless {@code --no-profile}, one more run with every command timed ({@link KernelProfile}): GPU
 * time per kernel kind. {@code --products}: the kernels of one-token Q4_0 and Q8_0 products, each a run of its own.
 *
 * <pre>
 * ./innerq bench step --model FILE[,FILE...] [--contexts 1k,8k,32k] [--kv fp16,innerq-base,innerq-small,innerq-4]
 *     [--tokens 32] [--warmup 8] [--runs 3] [--copy-mib 1024] [--products auto|float|int|dot,...] [--no-profile] [--json]
 * </pre>
 */
public final class VulkanDecodeBenchmark {

    private record Options(List<Path> models, int[] contexts, List<KvMode> modes, int tokens, int warmup, int runs,
                           long copyBytes, boolean json, List<StepKernels.Products> products, boolean profile) {
    }

    /** One model, mode and context. */
    public record Row(String model, String weights, String products, String mode, int context, double millisPerToken, double gpuMillis,
                      double recordMillis, long weightBytes, long cacheBytes, List<KernelProfile.Kind> kernels, int profiledSteps) {
        double tokensPerSecond() {
            return 1e3 / millisPerToken;
        }

        /** Milliseconds the step's bytes need at {@code copyGBps}. */
        double floorMillis(double copyGBps) {
            return (weightBytes + cacheBytes) / copyGBps / 1e6;
        }
    }

    private VulkanDecodeBenchmark() {
    }

    public static void main(String[] args) {
        run(args, System.out);
    }

    /** Runs the benchmark with command-line {@code args}, printing to {@code out}. */
    public static void run(String[] args, PrintStream out) {
        Options o = parse(args);
        try (VulkanDevice device = VulkanDevice.open(VulkanDevice.Options.fromSystemProperties());
             KernelLibrary kernels = new KernelLibrary(device)) {
            double copy = Benchmarks.copyBandwidth(device, kernels, o.copyBytes(), 3);
            List<Row> rows = new ArrayList<>();
            for (Path path : o.models()) {
                for (StepKernels.Products products : o.products()) {
                    try (LlamaModel model = LlamaModel.load(path);
                         VulkanForward forward = new VulkanForward(kernels, model, products)) {
                        String weights = model.weights().wq()[0].type().name();
                        for (int n : o.contexts()) {
                            for (KvMode mode : o.modes()) {
                                rows.add(measure(forward, path.getFileName().toString(), weights, mode, n, o));
                            }
                        }
                    }
                }
            }
            if (o.json()) {
                printJson(out, device.info(), copy, o, rows);
            } else {
                printTable(out, device.info(), copy, o, rows);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Row measure(VulkanForward forward, String model, String weights, KvMode mode, int n, Options o) {
        int steps = o.warmup() + (o.runs() + 2) * o.tokens();
        try (VulkanForward.DeviceSequence sequence = forward.start(n + steps, mode)) {
            sequence.fillForBenchmark(n);
            long cacheBytes = sequence.cacheBytesRead(n);
            int position = n;
            int token = 1;
            for (int i = 0; i < o.warmup(); i++) {
                token = next(sequence.step(token, position++, true));
            }
            double[] millis = new double[o.runs()];
            for (int r = 0; r < o.runs(); r++) {
                long start = System.nanoTime();
                for (int i = 0; i < o.tokens(); i++) {
                    token = next(sequence.step(token, position++, true));
                }
                millis[r] = (System.nanoTime() - start) / 1e6 / o.tokens();
            }
            Arrays.sort(millis);
            sequence.timeSubmissions(); // one more run, GPU time only
            double[] gpu = new double[o.tokens()];
            double[] record = new double[o.tokens()];
            for (int i = 0; i < o.tokens(); i++) {
                token = next(sequence.step(token, position++, true));
                gpu[i] = sequence.lastGpuNanos() / 1e6;
                record[i] = sequence.lastRecordNanos() / 1e6;
            }
            Arrays.sort(gpu);
            Arrays.sort(record);
            List<KernelProfile.Kind> kinds = List.of();
            if (o.profile()) { // one more run, every command timed
                try (KernelProfile profile = new KernelProfile(forward.device())) {
                    sequence.profile(profile);
                    for (int i = 0; i < o.tokens(); i++) {
                        token = next(sequence.step(token, position++, true));
                    }
                    sequence.profile(null);
                    kinds = profile.kinds();
                }
            }
            return new Row(model, weights, forward.products().name().toLowerCase(Locale.ROOT), mode.name(), n, millis[millis.length / 2], gpu[gpu.length / 2],
                    record[record.length / 2], forward.weightBytes(), cacheBytes, kinds, o.tokens());
        }
    }

    /** The greedy next token, so each step depends on the last (as in decoding). */
    private static int next(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private static void printTable(PrintStream out, VulkanDevice.DeviceInfo info, double copy, Options o, List<Row> rows) {
        out.printf(Locale.ROOT, "Device: %s (%s), driver %s, Vulkan %s; copy bandwidth %.0f GB/s (read + write)%n%n",
                info.name(), info.type(), info.driver(), info.apiVersion(), copy);
        out.printf("Whole token step, %d steps per run, median of %d runs, after %d warm-up steps. Floor: the bytes a step "
                + "must read (weights + KV cache) at the copy bandwidth; fraction: floor over the GPU time.%n%n",
                o.tokens(), o.runs(), o.warmup());
        out.println("| model | weights | products | context | KV cache | ms/token | tokens/s | vs fp16 | GPU ms | recording ms | weight MB | cache MB | floor ms | fraction of floor (GPU) | step / floor |");
        out.println("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Row r : rows) {
            Row fp16 = rows.stream().filter(x -> x.model().equals(r.model()) && x.products().equals(r.products())
                    && x.context() == r.context() && x.mode().equals(KvMode.FP16.name())).findFirst().orElse(null);
            out.printf(Locale.ROOT, "| %s | %s | %s | %d | %s | %.3f | %.1f | %s | %.3f | %.3f | %.1f | %.1f | %.3f | %.1f%% | %.2fx |%n",
                    r.model(), r.weights(), r.products(), r.context(), r.mode(), r.millisPerToken(), r.tokensPerSecond(),
                    fp16 == null ? "" : String.format(Locale.ROOT, "%.2fx", fp16.millisPerToken() / r.millisPerToken()),
                    r.gpuMillis(), r.recordMillis(), r.weightBytes() / 1e6, r.cacheBytes() / 1e6, r.floorMillis(copy),
                    100 * r.floorMillis(copy) / r.gpuMillis(), r.millisPerToken() / r.floorMillis(copy));
        }
        if (rows.stream().anyMatch(r -> !r.kernels().isEmpty())) {
            out.printf("%nGPU time per kernel kind, one more run of %d steps with a barrier and a timestamp after every "
                    + "command (kernels do not overlap, so the sum exceeds the GPU ms above).%n%n", o.tokens());
            out.println("| model | products | context | KV cache | kernel | commands/step | GPU ms/step | share |");
            out.println("|---|---|---:|---|---|---:|---:|---:|");
            for (Row r : rows) {
                double total = r.kernels().stream().mapToDouble(KernelProfile.Kind::nanos).sum();
                for (KernelProfile.Kind k : r.kernels()) {
                    out.printf(Locale.ROOT, "| %s | %s | %d | %s | %s | %.1f | %.3f | %.1f%% |%n", r.model(), r.products(),
                            r.context(), r.mode(), k.label(), (double) k.commands() / r.profiledSteps(),
                            k.nanos() / 1e6 / r.profiledSteps(), 100 * k.nanos() / total);
                }
                out.printf(Locale.ROOT, "| %s | %s | %d | %s | **all** | | %.3f | 100%% |%n", r.model(), r.products(),
                        r.context(), r.mode(), total / 1e6 / r.profiledSteps());
            }
        }
    }

    private static void printJson(PrintStream out, VulkanDevice.DeviceInfo info, double copy, Options o, List<Row> rows) {
        var sb = new StringBuilder();
        sb.append("{\"device\":").append(Benchmarks.quote(info.name())).append(",\"driver\":").append(Benchmarks.quote(info.driver()))
                .append(",\"vulkan\":").append(Benchmarks.quote(info.apiVersion()))
                .append(String.format(Locale.ROOT, ",\"copyGBps\":%.2f", copy))
                .append(",\"tokens\":").append(o.tokens()).append(",\"runs\":").append(o.runs()).append(",\"results\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                    "{\"model\":%s,\"weights\":%s,\"products\":%s,\"mode\":%s,\"context\":%d,\"msPerToken\":%.4f,\"tokensPerSecond\":%.2f,"
                            + "\"gpuMsPerToken\":%.4f,\"recordMs\":%.4f,\"weightBytes\":%d,\"cacheBytes\":%d,\"floorMs\":%.4f,\"kernels\":[",
                    Benchmarks.quote(r.model()), Benchmarks.quote(r.weights()), Benchmarks.quote(r.products()), Benchmarks.quote(r.mode()), r.context(), r.millisPerToken(),
                    r.tokensPerSecond(), r.gpuMillis(), r.recordMillis(), r.weightBytes(), r.cacheBytes(), r.floorMillis(copy)));
            for (int k = 0; k < r.kernels().size(); k++) {
                KernelProfile.Kind kind = r.kernels().get(k);
                sb.append(k == 0 ? "" : ",").append(String.format(Locale.ROOT, "{\"kernel\":%s,\"commandsPerStep\":%.2f,\"gpuMsPerStep\":%.4f}",
                        Benchmarks.quote(kind.label()), (double) kind.commands() / r.profiledSteps(), kind.nanos() / 1e6 / r.profiledSteps()));
            }
            sb.append("]}");
        }
        out.println(sb.append("]}"));
    }

    private static Options parse(String[] args) {
        List<Path> models = null;
        int[] contexts = {1024, 8192, 32768};
        List<KvMode> modes = List.of(KvMode.FP16, InnerqConfig.BASE, InnerqConfig.SMALL, InnerqConfig.FOUR);
        int tokens = 32;
        int warmup = 8;
        int runs = 3;
        long copy = 1024L << 20;
        boolean json = false;
        boolean profile = true;
        List<StepKernels.Products> products = java.util.Collections.singletonList(null);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--json")) {
                json = true;
                continue;
            }
            if (a.equals("--no-profile")) {
                profile = false;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--model" -> models = Arrays.stream(v.split(",")).map(String::strip).map(Path::of).toList();
                case "--contexts" -> contexts = Arrays.stream(v.split(",")).mapToInt(Benchmarks::tokens).toArray();
                case "--kv" -> modes = Arrays.stream(v.split(",")).map(KvMode::parse).toList();
                case "--tokens" -> tokens = Benchmarks.positive(a, v);
                case "--warmup" -> warmup = Benchmarks.whole(a, v, 0);
                case "--runs" -> runs = Benchmarks.positive(a, v);
                case "--copy-mib" -> copy = (long) Benchmarks.positive(a, v) << 20;
                case "--products" -> products = Arrays.stream(v.split(",")).map(StepKernels.Products::parse)
                        .collect(java.util.stream.Collectors.toList());
                default -> throw new IllegalArgumentException("unknown option " + a + " for bench step; options: --model "
                        + "--contexts --kv --tokens --warmup --runs --copy-mib --products --no-profile --json");
            }
        }
        if (models == null) {
            throw new IllegalArgumentException("bench step needs --model FILE[,FILE...]");
        }
        return new Options(models, contexts, modes, tokens, warmup, runs, copy, json, products, profile);
    }

}
