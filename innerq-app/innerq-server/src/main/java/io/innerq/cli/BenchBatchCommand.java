package io.innerq.cli;

import io.innerq.cache.KvMode;
import io.innerq.serving.InnerqEngine;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.json.JsonMapper;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code innerq bench batch}: decode throughput and time per output token of the service at several numbers of
 * concurrent streams, per backend and KV cache mode. For each backend it starts the service in this process on a
 * free loopback port (through {@link ServeCommand}, {@code spring.ai.innerq.concurrency} the largest client count),
 * then for each mode and each client count runs that many streaming {@code /v1/completions} clients back to back for
 * {@code --seconds} after an uncounted warm-up. A client's tokens are its chunks with text (one per token for these
 * prompts, told apart without parsing the JSON); the decode tokens are those after each request's first, counted when they arrive within the window; the
 * time per output token is the time between two chunks of one stream. Prints one Markdown table. A load program, not a
 * test: its numbers depend on the machine, and the clients share it with the service.
 */
final class BenchBatchCommand {

    /** Short prompts, one per client in turn, so that decode dominates and the streams differ. */
    private static final List<String> PROMPTS = List.of("Once upon a time", "Tom and his dog went to the park",
            "The little bird sat on a tree", "One day, a girl named Sue found a box", "There was a big red car",
            "Lily liked to play with her ball", "Ben saw a cat in the garden", "A boy and his mom made a cake");

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String TEXT = "\"text\":\"";
    private static final String NO_TEXT = "\"text\":\"\"";

    private BenchBatchCommand() {
    }

    /** One streamed request: when each content chunk arrived ({@link System#nanoTime()}). */
    private record Stream(int status, long[] chunks) {
    }

    /** One cell of the table. */
    private record Cell(String backend, KvMode mode, int clients, int requests, long decodeTokens, double seconds,
                        double tpotP50, double tpotP99, double meanBatch, int errors) {
        double tokensPerSecond() {
            return decodeTokens / seconds;
        }
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        var cli = CliArguments.parse("bench batch", args, Set.of("model", "backends", "kv", "clients", "seconds",
                "warmup-seconds", "max-tokens", "threads", "kv-budget"), Set.of());
        List<String> backends = Arrays.stream(cli.get("backends").orElse("cpu").split(",")).map(String::strip).toList();
        List<KvMode> modes = cli.kvModes("kv", "fp32");
        List<Integer> clients = counts(cli.get("clients").orElse("1,2,4,8"));
        int seconds = cli.integer("seconds", 1, "seconds of load per cell").orElse(10);
        int warmUp = cli.integer("warmup-seconds", 0, "uncounted seconds of load before each mode").orElse(3);
        int maxTokens = cli.integer("max-tokens", 2, "tokens per request").orElse(128);
        int most = Collections.max(clients);

        var cells = new ArrayList<Cell>();
        for (String backend : backends) {
            var spring = new ArrayList<>(List.of("--server.address=127.0.0.1", "--server.port=0",
                    "--logging.level.root=WARN", "--spring.ai.innerq.backend=" + backend,
                    "--spring.ai.innerq.concurrency=" + most));
            cli.get("model").ifPresent(m -> spring.add("--spring.ai.innerq.model=" + m));
            cli.get("threads").ifPresent(t -> spring.add("--spring.ai.innerq.threads=" + t));
            cli.get("kv-budget").ifPresent(b -> spring.add("--spring.ai.innerq.kv.budget=" + b));
            int[] status = {1};
            int serve = ServeCommand.run(spring, err, context -> {
                try {
                    status[0] = load(context, modes, clients, seconds, warmUp, maxTokens, cells, err);
                } finally {
                    context.close();
                }
            });
            if (serve != 0 || status[0] != 0) {
                return serve != 0 ? serve : status[0];
            }
        }
        print(out, cells);
        return 0;
    }

    private static List<Integer> counts(String text) {
        try {
            List<Integer> counts = Arrays.stream(text.split(",")).map(String::strip).map(Integer::parseInt).toList();
            if (counts.stream().anyMatch(c -> c < 1)) {
                throw new NumberFormatException();
            }
            return counts;
        } catch (NumberFormatException e) {
            throw new CliArguments.UsageException(
                    "--clients takes client counts of at least 1, separated by commas (e.g. 1,2,4,8), got '%s'"
                            .formatted(text));
        }
    }

    private static int load(ConfigurableApplicationContext context, List<KvMode> modes, List<Integer> clients,
                            int seconds, int warmUp, int maxTokens, List<Cell> cells, PrintStream err) {
        var engine = context.getBean(InnerqEngine.class);
        MeterRegistry meters = context.getBeanProvider(MeterRegistry.class).getIfAvailable();
        String base = "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
        String backend = engine.backendName();
        int most = Collections.max(clients);
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            for (KvMode mode : modes) {
                window(http, base, mode, most, warmUp, maxTokens); // compiles this mode's kernels at full load
                for (int c : clients) {
                    double stepsBefore = batchSteps(meters);
                    double sizeBefore = batchSizes(meters);
                    long t0 = System.nanoTime();
                    List<Stream> streams = window(http, base, mode, c, seconds, maxTokens);
                    long end = t0 + TimeUnit.SECONDS.toNanos(seconds);
                    double steps = batchSteps(meters) - stepsBefore;
                    double meanBatch = steps > 0 ? (batchSizes(meters) - sizeBefore) / steps : Double.NaN;
                    cells.add(cell(backend, mode, c, streams, t0, end, meanBatch));
                }
            }
        } catch (Exception e) {
            err.println("innerq: the service on " + base + " did not answer: " + e);
            return 1;
        }
        return 0;
    }

    private static double batchSteps(MeterRegistry meters) {
        var s = meters == null ? null : meters.find("innerq.batch.size").summary();
        return s == null ? 0 : s.count();
    }

    private static double batchSizes(MeterRegistry meters) {
        var s = meters == null ? null : meters.find("innerq.batch.size").summary();
        return s == null ? 0 : s.totalAmount();
    }

    /** {@code clients} clients streaming requests back to back; none starts after {@code seconds}. */
    private static List<Stream> window(HttpClient http, String base, KvMode mode, int clients, int seconds,
                                       int maxTokens) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        var streams = Collections.synchronizedList(new ArrayList<Stream>());
        var turn = new AtomicLong();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            var done = new ArrayList<Future<?>>();
            for (int i = 0; i < clients; i++) {
                done.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        String prompt = PROMPTS.get((int) (turn.getAndIncrement() % PROMPTS.size()));
                        streams.add(stream(http, base, prompt, mode, maxTokens));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        return streams;
    }

    private static Cell cell(String backend, KvMode mode, int clients, List<Stream> streams, long t0, long end,
                             double meanBatch) {
        var intervals = new ArrayList<Double>();
        long decode = 0;
        int requests = 0;
        int errors = 0;
        for (Stream s : streams) {
            if (s.status() != 200 || s.chunks().length == 0) {
                errors++;
                continue;
            }
            requests++;
            long[] c = s.chunks();
            for (int k = 1; k < c.length; k++) {
                if (c[k] <= end) {
                    decode++;
                    intervals.add((c[k] - c[k - 1]) / 1e6);
                }
            }
        }
        Collections.sort(intervals);
        return new Cell(backend, mode, clients, requests, decode, (end - t0) / 1e9, percentile(intervals, 50),
                percentile(intervals, 99), meanBatch, errors);
    }

    /** One streamed completion: the arrival time of each chunk with text. */
    private static Stream stream(HttpClient http, String base, String prompt, KvMode mode, int maxTokens)
            throws Exception {
        var body = JSON.writeValueAsString(Map.of("prompt", prompt, "max_tokens", maxTokens, "temperature", 0,
                "stream", true, "kv_cache_mode", mode.name()));
        var request = HttpRequest.newBuilder(URI.create(base + "/v1/completions")).timeout(Duration.ofMinutes(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<java.util.stream.Stream<String>> response = http.send(request,
                HttpResponse.BodyHandlers.ofLines());
        var chunks = new long[maxTokens + 1];
        int n = 0;
        try (var lines = response.body()) {
            if (response.statusCode() != 200) {
                lines.forEach(l -> { });
                return new Stream(response.statusCode(), new long[0]);
            }
            for (var it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                    continue;
                }
                // a chunk with text, told apart without parsing it (the clients share the machine with the service)
                if (line.contains(TEXT) && !line.contains(NO_TEXT) && n < chunks.length) {
                    chunks[n++] = System.nanoTime();
                }
            }
        }
        return new Stream(200, Arrays.copyOf(chunks, n));
    }

    private static void print(PrintStream out, List<Cell> cells) {
        out.println("| backend | KV cache | clients | requests | decode tok/s (all streams) | vs 1 client "
                + "| time per output token p50 (ms) | p99 (ms) | generations per step (mean) |");
        out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Cell c : cells) {
            Cell one = cells.stream().filter(o -> o.backend().equals(c.backend()) && o.mode().equals(c.mode())
                    && o.clients() == 1).findFirst().orElse(null);
            String ratio = one == null ? "" : fmt("%.2fx", c.tokensPerSecond() / one.tokensPerSecond());
            out.printf(Locale.ROOT, "| %s | %s | %d | %d%s | %.1f | %s | %.2f | %.2f | %.2f |%n", c.backend(),
                    c.mode().name(), c.clients(), c.requests(), c.errors() == 0 ? "" : " (" + c.errors() + " failed)",
                    c.tokensPerSecond(), ratio, c.tpotP50(), c.tpotP99(), c.meanBatch());
        }
        out.flush();
    }

    /** Nearest-rank percentile of sorted values; NaN when there are none. */
    private static double percentile(List<Double> sorted, int p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    private static String fmt(String format, double v) {
        return String.format(Locale.ROOT, format, v);
    }
}
