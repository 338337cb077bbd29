package io.innerq.vulkan;

import io.innerq.cache.InnerqConfig;
import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCachePort.CacheGeometry;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * GPU time of the two decode GEMVs over the cache, q.K^T and p.V, for every cache layout in one run, on one layer of
 * Llama-3-8B's shapes (32 query heads, 8 KV heads, head_dim 128), with the device's copy bandwidth measured in the
 * same run.
 *
 * <p>Per context length and mode: a cache in the state of a sequence that has decoded that many tokens (sink,
 * quantized middle and windows as the layout defines them; fixed bit patterns as content), with enough layers that
 * the calls rotate through more memory than the GPU's caches hold ({@code --rotate-mib}, default 512). One
 * submission records {@code --iterations} calls of a kernel, each on the next layer, with a barrier between calls
 * (as in a decode step); GPU timestamps around them give the time per call; the median of {@code --runs}
 * submissions (after one untimed) is reported. p.V includes the reduction of its split-token partial sums.
 *
 * <p>Effective bandwidth: the bytes of cache the kernel must read (codes, scales, zero points, fp32 windows) per
 * second. Copy bandwidth: bytes read plus bytes written per second when copying between two device-local buffers,
 * the better of {@code vkCmdCopyBuffer} and a copy kernel ({@code copy.comp}, 16 bytes per thread); a kernel's share
 * is its effective bandwidth over that.
 *
 * <pre>
 * ./innerq bench attention --backend vulkan [--contexts 512,1k,2k,4k,8k,16k,32k] [--modes fp16,kivi-2,...|all]
 *     [--iterations 100] [--runs 5] [--rotate-mib 512] [--copy-mib 1024] [--json]
 * </pre>
 */
public final class VulkanAttentionBenchmark {

    private record Options(int[] contexts, List<KvMode> modes, int iterations, int runs, long rotateBytes,
                           long copyBytes, boolean json, int heads, int kvHeads, int headDim) {
    }

    /** One mode at one context. */
    public record Row(String mode, int context, int layers, double scoresMicros, double valuesMicros,
                      long keyBytes, long valueBytes) {
        double scoresGbps() {
            return keyBytes / scoresMicros / 1e3;
        }

        double valuesGbps() {
            return valueBytes / valuesMicros / 1e3;
        }
    }

    private VulkanAttentionBenchmark() {
    }

    public static void main(String[] args) {
        run(args, System.out);
    }

    /** Runs the benchmark with command-line {@code args}, printing to {@code out}. */
    public static void run(String[] args, PrintStream out) {
        Options o = parse(args);
        try (VulkanDevice device = VulkanDevice.open(VulkanDevice.Options.fromSystemProperties());
             KernelLibrary kernels = new KernelLibrary(device)) {
            double copy = Benchmarks.copyBandwidth(device, kernels, o.copyBytes(), Math.max(3, o.runs()));
            var port = new VulkanKvCaches(kernels);
            List<Row> rows = new ArrayList<>();
            for (int n : o.contexts()) {
                for (KvMode mode : o.modes()) {
                    rows.add(measure(port, mode, n, o));
                }
            }
            if (o.json()) {
                printJson(out, device.info(), copy, o, rows);
            } else {
                printTables(out, device.info(), copy, o, rows);
            }
        }
    }

    private static Row measure(VulkanKvCaches port, KvMode mode, int n, Options o) {
        CacheGeometry one = new CacheGeometry(1, o.heads(), o.kvHeads(), o.headDim());
        long perLayer;
        try (VulkanKvCache probe = (VulkanKvCache) port.allocate(one, n, mode)) {
            probe.fillForBenchmark(n);
            perLayer = probe.keyBytesRead(n) + probe.valueBytesRead(n);
        }
        int layers = (int) Math.clamp((o.rotateBytes() + perLayer - 1) / perLayer, 2, 512);
        CacheGeometry g = new CacheGeometry(layers, o.heads(), o.kvHeads(), o.headDim());
        try (VulkanKvCache cache = (VulkanKvCache) port.allocate(g, n, mode);
             TimestampQueries queries = new TimestampQueries(port.device(), 4)) {
            cache.fillForBenchmark(n);
            float[] q = new float[o.heads() * o.headDim()];
            Arrays.fill(q, 0.05f);
            cache.io.write(4L * cache.qIo(), q, 0, q.length);
            CommandBatch batch = cache.batch();
            batch.begin();
            cache.recordQueryUpload();
            batch.submitAndWait();
            double[] scores = new double[o.runs()];
            double[] values = new double[o.runs()];
            for (int r = -1; r < o.runs(); r++) {
                batch.begin().resetQueries(queries, 0, 4).timestamp(queries, 0);
                cache.recordScoresRepeated(n, o.iterations());
                batch.timestamp(queries, 1);
                cache.recordSoftmax(n); // once, so that p.V reads real probabilities
                batch.timestamp(queries, 2);
                cache.recordValuesRepeated(n, o.iterations());
                batch.timestamp(queries, 3).submitAndWait();
                double[] t = queries.readNanos(0, 4);
                if (r >= 0) {
                    scores[r] = (t[1] - t[0]) / o.iterations() / 1e3;
                    values[r] = (t[3] - t[2]) / o.iterations() / 1e3;
                }
            }
            return new Row(mode.name(), n, layers, Benchmarks.median(scores), Benchmarks.median(values), cache.keyBytesRead(n), cache.valueBytesRead(n));
        }
    }

    /** The baseline a mode's "vs KIVI" column divides by: KIVI at the closest bit width. */
    private static String kiviFor(KvMode mode) {
        return mode instanceof InnerqConfig c && Math.min(c.keyBits(), c.valueBits()) >= 4 ? "kivi-4" : "kivi-2";
    }

    private static void printTables(PrintStream out, VulkanDevice.DeviceInfo info, double copy, Options o, List<Row> rows) {
        out.printf("# Decode attention GEMVs on %s%n%n", info);
        out.printf("One layer of %d query heads, %d KV heads, head_dim %d; median of %d submissions of %d calls each; "
                + "copy bandwidth (read + write) %.1f GB/s%n%n", o.heads(), o.kvHeads(), o.headDim(), o.runs(), o.iterations(), copy);
        for (int n : o.contexts()) {
            out.printf("## %,d tokens%n%n", n);
            out.println("| mode | q·Kᵀ µs | GB/s | % of copy | p·V µs | GB/s | % of copy | q·Kᵀ vs fp16 | p·V vs fp16 | q·Kᵀ vs KIVI | p·V vs KIVI | layers rotated |");
            out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            Map<String, Row> byMode = new LinkedHashMap<>();
            rows.stream().filter(r -> r.context() == n).forEach(r -> byMode.put(r.mode(), r));
            for (KvMode mode : o.modes()) {
                Row r = byMode.get(mode.name());
                Row fp16 = byMode.get("fp16");
                Row kivi = byMode.get(kiviFor(mode));
                out.printf(Locale.ROOT, "| %s | %.2f | %.1f | %.1f%% | %.2f | %.1f | %.1f%% | %s | %s | %s | %s | %d |%n",
                        r.mode(), r.scoresMicros(), r.scoresGbps(), 100 * r.scoresGbps() / copy,
                        r.valuesMicros(), r.valuesGbps(), 100 * r.valuesGbps() / copy,
                        ratio(fp16 == null ? Double.NaN : fp16.scoresMicros(), r.scoresMicros()),
                        ratio(fp16 == null ? Double.NaN : fp16.valuesMicros(), r.valuesMicros()),
                        kivi == null || mode instanceof KvMode.Kivi ? "" : ratio(kivi.scoresMicros(), r.scoresMicros()) + " (" + kivi.mode() + ")",
                        kivi == null || mode instanceof KvMode.Kivi ? "" : ratio(kivi.valuesMicros(), r.valuesMicros()),
                        r.layers());
            }
            out.println();
        }
    }

    private static String ratio(double baseline, double value) {
        return Double.isNaN(baseline) ? "" : String.format(Locale.ROOT, "%.2fx", baseline / value);
    }

    private static void printJson(PrintStream out, VulkanDevice.DeviceInfo info, double copy, Options o, List<Row> rows) {
        var sb = new StringBuilder();
        sb.append("{\"device\":").append(Benchmarks.quote(info.name())).append(",\"type\":").append(Benchmarks.quote(info.type()))
                .append(",\"driver\":").append(Benchmarks.quote(info.driver())).append(",\"vulkan\":").append(Benchmarks.quote(info.apiVersion()))
                .append(String.format(Locale.ROOT, ",\"copyGBps\":%.2f", copy))
                .append(",\"heads\":").append(o.heads()).append(",\"kvHeads\":").append(o.kvHeads())
                .append(",\"headDim\":").append(o.headDim()).append(",\"iterations\":").append(o.iterations())
                .append(",\"runs\":").append(o.runs()).append(",\"results\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                    "{\"mode\":%s,\"context\":%d,\"layersRotated\":%d,\"scoresMicros\":%.3f,\"scoresGBps\":%.1f,"
                            + "\"keyBytes\":%d,\"valuesMicros\":%.3f,\"valuesGBps\":%.1f,\"valueBytes\":%d}",
                    Benchmarks.quote(r.mode()), r.context(), r.layers(), r.scoresMicros(), r.scoresGbps(), r.keyBytes(),
                    r.valuesMicros(), r.valuesGbps(), r.valueBytes()));
        }
        out.println(sb.append("]}"));
    }

    private static Options parse(String[] args) {
        int[] contexts = {512, 1024, 2048, 4096, 8192, 16384, 32768};
        List<KvMode> modes = null;
        int iterations = 100;
        int runs = 5;
        long rotate = 512L << 20;
        long copy = 1024L << 20;
        boolean json = false;
        int heads = 32;
        int kvHeads = 8;
        int headDim = 128;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--json")) {
                json = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--contexts" -> contexts = Arrays.stream(v.split(",")).mapToInt(Benchmarks::tokens).toArray();
                case "--modes" -> modes = v.equals("all") ? null : Arrays.stream(v.split(",")).map(KvMode::parse).toList();
                case "--iterations" -> iterations = Benchmarks.positive(a, v);
                case "--runs" -> runs = Benchmarks.positive(a, v);
                case "--rotate-mib" -> rotate = (long) Benchmarks.positive(a, v) << 20;
                case "--copy-mib" -> copy = (long) Benchmarks.positive(a, v) << 20;
                case "--heads" -> heads = Benchmarks.positive(a, v);
                case "--kv-heads" -> kvHeads = Benchmarks.positive(a, v);
                case "--head-dim" -> headDim = Benchmarks.positive(a, v);
                default -> throw new IllegalArgumentException("unknown option " + a + " for bench attention --backend vulkan; "
                        + "options: --contexts --modes --iterations --runs --rotate-mib --copy-mib --heads --kv-heads --head-dim --json");
            }
        }
        if (modes == null) {
            modes = KvMode.all().stream().filter(VulkanKvCaches::serves).toList();
        }
        return new Options(contexts, modes, iterations, runs, rotate, copy, json, heads, kvHeads, headDim);
    }

}
