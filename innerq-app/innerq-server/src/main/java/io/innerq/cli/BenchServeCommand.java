package io.innerq.cli;

import io.innerq.serving.EngineSettings;
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
 * JVM's direct and mapped buffers, the process's resident set ({@code VmRSS} of {@code /proc/self/status}: the heap
 * that was touched, and native memory such as a Vulkan driver's), the generations running and the KV bytes they
 * hold, and prints them as a second table; after the load it checks ({@link SoakCheck}) that the engine is back to
 * idle (no generation, no KV bytes, every slot free) and that memory returned near its value before the load, and
 * fails otherwise (the resident set only with a fixed, pre-touched heap: {@code -Xms} = {@code -Xmx},
 * {@code -XX:+AlwaysPreTouch}, e.g. through {@code INNERQ_JAVA_OPTS}). With a small {@code --kv-budget} the budget's 429 answers show up as errors by status, and no
 * request may fail otherwise. {@code --backend} picks {@code spring.ai.innerq.backend} ({@code cpu}, {@code vulkan}, ...).
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
                "max-tokens", "concurrency", "kv-budget", "kv", "threads", "sample-seconds", "backend"),
                Set.of("check-weights"));
        int max = EngineSettings.MAX_THREADS;
        int clients = cli.integer("clients", 1, max, "streaming clients").orElse(4);
        int seconds = cli.integer("seconds", 1, "").orElse(30);
        int maxRequests = cli.integer("max-requests", 1, "").orElse(10_000);
        int maxTokens = cli.integer("max-tokens", 1, "per request").orElse(64);
        int sampleSeconds = cli.integer("sample-seconds", 0, "0: no samples").orElse(0);
        var concurrency = cli.integer("concurrency", 1, max, "generation slots");
        var threads = cli.integer("threads", 0, max, "0: one per core");

        var spring = new ArrayList<>(List.of("--server.address=127.0.0.1", "--server.port=0",
                "--logging.level.root=WARN"));
        cli.get("model").ifPresent(m -> spring.add("--spring.ai.innerq.model=" + m));
        concurrency.ifPresent(c -> spring.add("--spring.ai.innerq.concurrency=" + c));
        cli.get("kv-budget").ifPresent(b -> spring.add("--spring.ai.innerq.kv.budget=" + b));
        cli.get("kv").ifPresent(k -> spring.add("--spring.ai.innerq.kv.mode=" + k));
        threads.ifPresent(t -> spring.add("--spring.ai.innerq.threads=" + t));
        if (cli.flag("check-weights")) {
            spring.add("--spring.ai.innerq.check-weights=true");
        }
        cli.get("backend").ifPresent(b -> spring.add("--spring.ai.innerq.backend=" + b));

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

    /** One sample of a soak run; {@code rss} is -1 where {@code /proc/self/status} does not exist. */
    private record Memory(double seconds, long heap, long heapCommitted, long direct, long mapped, long rss,
                          int threads, int active, long kvBytes, int served) {
    }

    /** Memory now: the heap after a collection, the committed heap, the buffer pools and the resident set. */
    private static Memory memory(double seconds, io.innerq.serving.InnerqEngine engine, int served) {
        long heap = heapUsedAfterGc();
        return new Memory(seconds, heap, Runtime.getRuntime().totalMemory(), bufferPool("direct"),
                bufferPool("mapped"), residentSetBytes(),
                java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount(), engine.activeGenerations(),
                engine.kvBytesInUse(), served);
    }

    /**
     * Whether memory came back near its baseline after the load. The heap and the direct buffers may each end at most
     * 25% above their value before the load, or 32 MiB (heap) and 8 MiB (direct) above it, whichever is more. The
     * resident set is compared only when the heap is fixed and touched from the start ({@code -Xms} equal to
     * {@code -Xmx}, {@code -XX:+AlwaysPreTouch}): then every change of it is memory outside the heap (a driver's, a
     * native library's, thread stacks), which may grow by at most 25% of what it was, or 64 MiB. With a heap that
     * grows and shrinks, the resident set follows the collector's sizing (ParallelGC keeps more committed than
     * {@link Runtime#totalMemory()} reports) and says nothing about leaks; it is then shown but not checked.
     *
     * @param heapFixed whether the heap is fixed and pre-touched
     * @param heapMax   the heap's size in bytes when fixed
     */
    record SoakCheck(long heapBefore, long heapAfter, long directBefore, long directAfter, long rssBefore,
                     long rssAfter, boolean heapFixed, long heapMax) {

        static final long MIB = 1L << 20;

        boolean heapBack() {
            return near(heapBefore, heapAfter, 32 * MIB);
        }

        boolean directBack() {
            return near(directBefore, directAfter, 8 * MIB);
        }

        /** Whether the resident set can be compared: a fixed, pre-touched heap, and a readable VmRSS. */
        boolean residentChecked() {
            return heapFixed && rssBefore >= 0 && rssAfter >= 0;
        }

        /** The resident set outside the heap; true when it cannot be compared. */
        boolean residentBack() {
            if (!residentChecked()) {
                return true;
            }
            long outsideBefore = Math.max(0, rssBefore - heapMax);
            return rssAfter - rssBefore <= Math.max(outsideBefore / 4, 64 * MIB);
        }

        boolean passed() {
            return heapBack() && directBack() && residentBack();
        }

        String describe() {
            return "heap back to its baseline %s, direct buffers %s, resident set %s".formatted(heapBack(),
                    directBack(), residentChecked() ? String.valueOf(residentBack())
                            : "not checked (run with -Xms equal to -Xmx and -XX:+AlwaysPreTouch)");
        }

        private static boolean near(long before, long after, long allowance) {
            return after <= Math.max(before * 1.25, before + allowance);
        }
    }

    /** Whether this JVM's heap is fixed and touched from the start: -Xms equal to -Xmx, -XX:+AlwaysPreTouch. */
    static boolean heapFixedAndTouched() {
        var vm = java.lang.management.ManagementFactory.getPlatformMXBean(
                com.sun.management.HotSpotDiagnosticMXBean.class);
        try {
            return Boolean.parseBoolean(vm.getVMOption("AlwaysPreTouch").getValue())
                    && vm.getVMOption("InitialHeapSize").getValue().equals(vm.getVMOption("MaxHeapSize").getValue());
        } catch (IllegalArgumentException e) {
            return false; // not HotSpot
        }
    }

    private static int load(ConfigurableApplicationContext context, int clients, int seconds, int maxRequests,
                            int maxTokens, int sampleSeconds, PrintStream out, PrintStream err) {
        var engine = context.getBean(io.innerq.serving.InnerqEngine.class);
        var env = context.getEnvironment();
        String base = "http://127.0.0.1:" + env.getProperty("local.server.port");
        String model;
        try (HttpClient http = HttpClient.newHttpClient()) {
            var models = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            model = JSON.readTree(models.body()).path("data").path(0).path("id").asString("?");
            // Warm-up, not counted: the first generations pay for class loading and compilation, and each server
            // thread for what it keeps (with the Vulkan backend, LWJGL's thread-local stack); so the clients warm
            // up as they will load, all at once, and the baseline after it is the idle service's.
            try (ExecutorService warmUp = Executors.newFixedThreadPool(clients)) {
                var done = new ArrayList<java.util.concurrent.Future<Sample>>();
                for (int c = 0; c < clients; c++) {
                    for (String prompt : PROMPTS) {
                        done.add(warmUp.submit(() -> stream(http, base, prompt, maxTokens, Duration.ofSeconds(300))));
                    }
                }
                for (var f : done) {
                    f.get();
                }
            }
        } catch (Exception e) {
            err.println("innerq: the service on " + base + " did not answer: " + e);
            return 1;
        }
        Memory before = memory(0, engine, 0);
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
            sampler.scheduleAtFixedRate(() -> memory.add(memory((System.nanoTime() - t0) / 1e9, engine,
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
        Memory after = memory(wallNanos / 1e9, engine, samples.size());
        var check = new SoakCheck(before.heap(), after.heap(), before.direct(), after.direct(), before.rss(),
                after.rss(), heapFixedAndTouched(), Runtime.getRuntime().maxMemory());

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
        row(out, "clients (streaming) / generation slots", clients + " / " + env.getProperty("spring.ai.innerq.concurrency"));
        row(out, "KV mode / budget", env.getProperty("spring.ai.innerq.kv.mode") + " / " + env.getProperty("spring.ai.innerq.kv.budget"));
        row(out, "max_tokens per request", String.valueOf(maxTokens));
        row(out, "warm-up requests (not counted)", String.valueOf(clients * PROMPTS.size()));
        row(out, "wall time (s)", fmt("%.1f", wallNanos / 1e9));
        row(out, "requests served", String.valueOf(ok.size()));
        row(out, "errors", errorsByStatus.isEmpty() ? "0" : errorsByStatus.toString());
        row(out, "time to first token p50 (ms)", fmt("%.0f", percentile(ttft, 50)));
        row(out, "time to first token p99 (ms)", fmt("%.0f", percentile(ttft, 99)));
        row(out, "generated tokens/s (all streams)", fmt("%.1f", tokens * 1e9 / wallNanos));
        row(out, "per-stream decode tokens/s p50", fmt("%.1f", percentile(perStream, 50)));
        row(out, "backend", engine.backendName());
        row(out, "heap used before / after (MiB)", mib("%.0f", before.heap()) + " / " + mib("%.0f", after.heap()));
        row(out, "heap capacity before / after (MiB)", mib("%.0f", before.heapCommitted()) + " / "
                + mib("%.0f", after.heapCommitted()));
        row(out, "direct buffers before / after (MiB)", mib("%.1f", before.direct()) + " / "
                + mib("%.1f", after.direct()));
        row(out, "resident set before / after (MiB)", mib("%.0f", before.rss()) + " / " + mib("%.0f", after.rss())
                + (check.residentChecked() ? "" : " (not checked: the heap is not fixed and pre-touched)"));
        row(out, "after the load: generations / KV bytes / free slots", engine.activeGenerations() + " / "
                + engine.kvBytesInUse() + " / " + engine.freeSlots());
        if (!memory.isEmpty()) {
            out.println();
            out.println("| s | heap (MiB) | heap capacity (MiB) | direct (MiB) | mapped (MiB) | resident set (MiB) "
                    + "| threads | generations | KV bytes | requests answered |");
            out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var rows = new ArrayList<Memory>();
            rows.add(before);
            rows.addAll(memory);
            rows.add(after);
            for (Memory m : rows) {
                out.printf(Locale.ROOT, "| %.0f | %s | %s | %s | %s | %s | %d | %d | %,d | %d |%n", m.seconds(),
                        mib("%.0f", m.heap()), mib("%.0f", m.heapCommitted()), mib("%.1f", m.direct()),
                        mib("%.1f", m.mapped()), mib("%.0f", m.rss()), m.threads(), m.active(), m.kvBytes(),
                        m.served());
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
            boolean onlyBudget = errorsByStatus.keySet().stream().allMatch(k -> k.equals("429"));
            if (!idle || !check.passed() || !onlyBudget) {
                err.printf("innerq: soak check failed: idle after the load %s, %s, only 429s among the errors %s%n",
                        idle, check.describe(), onlyBudget);
                return 1;
            }
            out.println();
            out.println("Soak check passed: the engine is idle, the heap and direct buffers%s are back near their "
                    .formatted(check.residentChecked() ? " and the resident set" : "") + "baseline, errors are only 429s.");
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

    /** Bytes the JVM's buffer pool {@code name} ("direct" or "mapped") holds. */
    private static long bufferPool(String name) {
        for (var pool : java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
            if (pool.getName().equals(name)) {
                return pool.getMemoryUsed();
            }
        }
        return 0;
    }

    /** {@code VmRSS} of {@code /proc/self/status} in bytes; -1 where there is none (not Linux). */
    static long residentSetBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).strip().split("\\s+"); // "123456 kB"
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static String mib(String format, long bytes) {
        return bytes < 0 ? "n/a" : fmt(format, bytes / 1048576.0);
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
