package io.innerq.app.cli;

import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code innerq bench serve}: the service under load. Starts it in this process on a free loopback port (through
 * {@link ServeCommand}), runs {@code --clients} streaming chat clients against {@code 127.0.0.1} for
 * {@code --seconds} (no request starts after that, and at most {@code --max-requests} start in all), stops it, and
 * prints one Markdown table. A load program, not a test: its numbers depend on the machine.
 *
 * <p>As a soak run ({@code --sample-seconds N}) it also records, every N seconds, the heap after a collection, the
 * JVM's direct and mapped buffers, the generations running and the KV bytes they hold, and prints them as a second
 * table; after the load it checks that the engine is back to idle (no generation, no KV bytes, every slot free) and
 * that the heap returned to within 25% (and 32 MiB) of its value before the load, and fails otherwise. With a small
 * {@code --kv-budget} the budget's 429 answers show up as errors by status, and no request may fail otherwise.
 */
final class BenchServeCommand {

    /** Prompts of three lengths, taken in turn, so that prefill varies between requests. */
    private static final List<String> PROMPTS = List.of(
            "Once upon a time",
            "Tell me a story about a little girl named Lily who found a red ball in the park and wanted to share it.",
            ("Once upon a time, there was a little boy named Tim. Tim had a big, red ball. He liked to play with his "
                    + "ball every day. One day, Tim went to the park with his mom. He saw a girl who was sad because "
                    + "she had no toys. Tim wanted to help her. ").repeat(3) + "What did Tim do next?");

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private BenchServeCommand() {
    }

    /** One streamed request as the client saw it. */
    private record Sample(int status, long firstTokenNanos, long totalNanos, int completionTokens) {
        boolean ok() {
            return status == 200 && completionTokens > 0;
        }
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        var cli = CliArguments.parse("bench serve", args, Set.of("model", "clients", "seconds", "max-requests",
                "max-tokens", "concurrency", "kv-budget", "kv", "threads", "sample-seconds"), Set.of());
        int clients = positive(cli, "clients", 4);
        int seconds = positive(cli, "seconds", 30);
        int maxRequests = positive(cli, "max-requests", 10_000);
        int maxTokens = positive(cli, "max-tokens", 64);
        int sampleSeconds = cli.integer("sample-seconds").orElse(0);

        var spring = new ArrayList<>(List.of("--server.address=127.0.0.1", "--server.port=0",
                "--logging.level.root=WARN"));
        cli.get("model").ifPresent(m -> spring.add("--innerq.model=" + m));
        cli.get("concurrency").ifPresent(c -> spring.add("--innerq.concurrency=" + c));
        cli.get("kv-budget").ifPresent(b -> spring.add("--innerq.kv.budget=" + b));
        cli.get("kv").ifPresent(k -> spring.add("--innerq.kv.mode=" + k));
        cli.get("threads").ifPresent(t -> spring.add("--innerq.threads=" + t));

        int[] status = {1};
        int serve = ServeCommand.run(spring, err, context -> {
            try {
                status[0] = load(context, clients, seconds, maxRequests, maxTokens, sampleSeconds, out, err);
            } finally {
                context.close();
            }
        });
        return serve != 0 ? serve : status[0];
    }

    /** One sample of a soak run. */
    private record Memory(double seconds, long heap, long direct, long mapped, int active, long kvBytes, int served) {
    }

    private static int load(ConfigurableApplicationContext context, int clients, int seconds, int maxRequests,
                            int maxTokens, int sampleSeconds, PrintStream out, PrintStream err) {
        var engine = context.getBean(io.innerq.app.serving.InnerqEngine.class);
        var env = context.getEnvironment();
        String base = "http://127.0.0.1:" + env.getProperty("local.server.port");
        String model;
        try (HttpClient http = HttpClient.newHttpClient()) {
            var models = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            model = JSON.readTree(models.body()).path("data").path(0).path("id").asString("?");
            // Warm-up, not counted: the first generation pays for class loading and compilation.
            for (String prompt : PROMPTS) {
                stream(http, base, prompt, maxTokens, Duration.ofSeconds(120));
            }
        } catch (Exception e) {
            err.println("innerq: the service on " + base + " did not answer: " + e);
            return 1;
        }
        long heapBefore = heapUsedAfterGc();
        long directBefore = bufferPool("direct");
        var samples = Collections.synchronizedList(new ArrayList<Sample>());
        var memory = Collections.synchronizedList(new ArrayList<Memory>());
        var errors = new ConcurrentHashMap<String, AtomicInteger>();
        var started = new AtomicInteger();
        var promptTurn = new AtomicLong();
        Duration requestTimeout = Duration.ofSeconds(seconds + 60L);

        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(seconds);
        var sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        if (sampleSeconds > 0) {
            sampler.scheduleAtFixedRate(() -> memory.add(new Memory((System.nanoTime() - t0) / 1e9, heapUsedAfterGc(),
                    bufferPool("direct"), bufferPool("mapped"), engine.activeGenerations(), engine.kvBytesInUse(),
                    samples.size())), sampleSeconds, sampleSeconds, TimeUnit.SECONDS);
        }
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
             ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            for (int c = 0; c < clients; c++) {
                pool.submit(() -> {
                    while (System.nanoTime() < deadline && started.incrementAndGet() <= maxRequests) {
                        String prompt = PROMPTS.get((int) (promptTurn.getAndIncrement() % PROMPTS.size()));
                        try {
                            Sample s = stream(http, base, prompt, maxTokens, requestTimeout);
                            samples.add(s);
                            if (!s.ok()) {
                                errors.computeIfAbsent(String.valueOf(s.status()), k -> new AtomicInteger())
                                        .incrementAndGet();
                            }
                        } catch (Exception e) {
                            errors.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicInteger())
                                    .incrementAndGet();
                        }
                    }
                });
            }
            pool.shutdown();
            // The last requests finish within their timeout; the pool's close waits for them.
        }
        long wallNanos = System.nanoTime() - t0;
        sampler.shutdownNow();
        long heapAfter = heapUsedAfterGc();
        long directAfter = bufferPool("direct");

        List<Sample> ok = samples.stream().filter(Sample::ok).toList();
        List<Double> ttft = ok.stream().map(s -> s.firstTokenNanos() / 1e6).sorted().toList();
        List<Double> perStream = ok.stream()
                .filter(s -> s.completionTokens() > 1 && s.totalNanos() > s.firstTokenNanos())
                .map(s -> (s.completionTokens() - 1) * 1e9 / (s.totalNanos() - s.firstTokenNanos()))
                .sorted().toList();
        long tokens = ok.stream().mapToLong(Sample::completionTokens).sum();
        var errorsByStatus = new TreeMap<String, Integer>();
        errors.forEach((k, v) -> errorsByStatus.put(k, v.get()));

        out.println("| metric | value |");
        out.println("|---|---:|");
        row(out, "model", model);
        row(out, "clients (streaming) / generation slots", clients + " / " + env.getProperty("innerq.concurrency"));
        row(out, "KV mode / budget", env.getProperty("innerq.kv.mode") + " / " + env.getProperty("innerq.kv.budget"));
        row(out, "max_tokens per request", String.valueOf(maxTokens));
        row(out, "warm-up requests (not counted)", String.valueOf(PROMPTS.size()));
        row(out, "wall time (s)", fmt("%.1f", wallNanos / 1e9));
        row(out, "requests served", String.valueOf(ok.size()));
        row(out, "errors", errorsByStatus.isEmpty() ? "0" : errorsByStatus.toString());
        row(out, "time to first token p50 (ms)", fmt("%.0f", percentile(ttft, 50)));
        row(out, "time to first token p99 (ms)", fmt("%.0f", percentile(ttft, 99)));
        row(out, "generated tokens/s (all streams)", fmt("%.1f", tokens * 1e9 / wallNanos));
        row(out, "per-stream decode tokens/s p50", fmt("%.1f", percentile(perStream, 50)));
        row(out, "heap used before / after (MiB)", fmt("%.0f", heapBefore / 1048576.0) + " / "
                + fmt("%.0f", heapAfter / 1048576.0));
        row(out, "direct buffers before / after (MiB)", fmt("%.1f", directBefore / 1048576.0) + " / "
                + fmt("%.1f", directAfter / 1048576.0));
        row(out, "after the load: generations / KV bytes / free slots", engine.activeGenerations() + " / "
                + engine.kvBytesInUse() + " / " + engine.freeSlots());
        if (!memory.isEmpty()) {
            out.println();
            out.println("| s | heap (MiB) | direct (MiB) | mapped (MiB) | generations | KV bytes | requests answered |");
            out.println("|---:|---:|---:|---:|---:|---:|---:|");
            for (Memory m : memory) {
                out.printf(Locale.ROOT, "| %.0f | %.0f | %.1f | %.1f | %d | %,d | %d |%n", m.seconds(), m.heap() / 1048576.0,
                        m.direct() / 1048576.0, m.mapped() / 1048576.0, m.active(), m.kvBytes(), m.served());
            }
        }
        out.flush();
        if (ok.isEmpty()) {
            err.println("innerq: no request was served; errors: " + errorsByStatus);
            return 1;
        }
        if (sampleSeconds > 0) {
            boolean idle = engine.activeGenerations() == 0 && engine.kvBytesInUse() == 0
                    && engine.freeSlots() == engine.settings().concurrency();
            boolean heapBack = heapAfter <= Math.max(heapBefore * 1.25, heapBefore + (32L << 20));
            boolean onlyBudget = errorsByStatus.keySet().stream().allMatch(k -> k.equals("429"));
            if (!idle || !heapBack || !onlyBudget) {
                err.printf("innerq: soak check failed: idle after the load %s, heap back to its baseline %s, "
                        + "only 429s among the errors %s%n", idle, heapBack, onlyBudget);
                return 1;
            }
            out.println();
            out.println("Soak check passed: the engine is idle, the heap is back to its baseline, errors are only 429s.");
        }
        return 0;
    }

    /**
     * One streamed chat completion: time to the first content chunk, total time, and the completion tokens of the
     * usage chunk ({@code stream_options.include_usage}).
     */
    private static Sample stream(HttpClient http, String base, String prompt, int maxTokens, Duration timeout)
            throws Exception {
        var body = JSON.writeValueAsString(Map.of(
                "messages", List.of(Map.of("role", "user", "content", prompt)),
                "max_tokens", maxTokens,
                "stream", true,
                "stream_options", Map.of("include_usage", true)));
        var request = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        HttpResponse<java.util.stream.Stream<String>> response = http.send(request,
                HttpResponse.BodyHandlers.ofLines());
        long first = -1;
        int completion = 0;
        int chunks = 0;
        try (var lines = response.body()) {
            if (response.statusCode() != 200) {
                lines.forEach(l -> { });
                return new Sample(response.statusCode(), 0, System.nanoTime() - start, 0);
            }
            for (var it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                    continue;
                }
                JsonNode chunk = JSON.readTree(line.substring(6));
                JsonNode choices = chunk.path("choices");
                if (!choices.isEmpty() && !choices.get(0).path("delta").path("content").asString("").isEmpty()) {
                    chunks++;
                    if (first < 0) {
                        first = System.nanoTime() - start;
                    }
                }
                if (chunk.path("usage").isObject()) {
                    completion = chunk.path("usage").path("completion_tokens").asInt();
                }
            }
        }
        long total = System.nanoTime() - start;
        return new Sample(200, first < 0 ? total : first, total, completion > 0 ? completion : chunks);
    }

    private static int positive(CliArguments cli, String name, int otherwise) {
        int v = cli.integer(name).orElse(otherwise);
        if (v < 1) {
            throw new CliArguments.UsageException("--%s must be at least 1, got %d".formatted(name, v));
        }
        return v;
    }

    /** Bytes the JVM's buffer pool {@code name} ("direct" or "mapped") holds. */
    private static long bufferPool(String name) {
        for (var pool : java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
            if (pool.getName().equals(name)) {
                return pool.getMemoryUsed();
            }
        }
        return 0;
    }

    private static long heapUsedAfterGc() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** Nearest-rank percentile of sorted values; NaN when there are none. */
    private static double percentile(List<Double> sorted, int p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    private static void row(PrintStream out, String metric, String value) {
        out.println("| " + metric + " | " + value + " |");
    }

    private static String fmt(String format, double v) {
        return String.format(Locale.ROOT, format, v);
    }
}
