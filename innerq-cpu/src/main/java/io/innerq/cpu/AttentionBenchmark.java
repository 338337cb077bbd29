package io.innerq.cpu;

import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Decode attention speed of every cache mode on one layer of Llama-3-8B's shapes (32 query heads, 8 KV heads,
 * head_dim 128; {@code --heads} and {@code --kv-heads} change the head counts), on {@code --threads} threads (default:
 * the available processors; {@link CpuWorkers}, as the cpu backend shares them), printed as Markdown tables.
 *
 * <p>Per context length and mode: a cache of exactly that many tokens is filled as a model would fill it (a short
 * prompt stored and ended with {@code endPrefill}, then one decode store per token, so the quantized middle, the
 * windows and the flushing are in their decode state), with random keys that have outlier channels (x8) and
 * per-channel offsets, standard normal values. Then {@code attend} at the newest position runs a few times
 * untimed, and {@code --runs} rounds time one call of every mode each (interleaved, so that load from elsewhere on
 * the machine falls on all modes alike); the table gives each mode's median, and its speed as a multiple of
 * fp32's at the same length. Before the sweep every mode runs {@code --jit-calls} times on a small cache so that the JIT has
 * compiled its kernels.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx8g -cp innerq-cpu/target/classes:innerq-domain/target/classes \
 *     io.innerq.cpu.AttentionBenchmark [--contexts 1k,2k,4k,8k,16k,32k] [--modes fp32,fp16,...|all]
 *     [--runs 11] [--warmup 3] [--prompt 512] [--jit-calls 300] [--seed 1] [--threads N] [--heads 32] [--kv-heads 8]
 * </pre>
 * Quick run (under a minute): {@code --contexts 1k,4k --runs 5}.
 */
public final class AttentionBenchmark {

    private static final int HEAD_DIM = 128; // Llama-3-8B's
    private static final int TOKEN_POOL = 4096; // distinct random tokens, cycled while filling

    private AttentionBenchmark() {
    }

    public static void main(String[] args) {
        Options o = Options.parse(args);
        CacheGeometry g = new CacheGeometry(1, o.heads, o.kvHeads, HEAD_DIM);
        var pool = new TokenPool(g, Math.min(TOKEN_POOL, Arrays.stream(o.contexts).max().orElse(1)), o.seed);
        var workers = new CpuWorkers(o.threads);
        var port = new VectorKvCaches(workers);
        float[] q = pool.query(new SplittableRandom(o.seed + 1));
        float[] out = new float[g.heads() * g.headDim()];
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

        System.out.printf("# Attention, one layer of %s (%d query heads, %d KV heads, head_dim %d), %d thread%s%n%n",
                o.heads == 32 && o.kvHeads == 8 ? "Llama-3-8B" : "a model", o.heads, o.kvHeads, HEAD_DIM, o.threads,
                o.threads == 1 ? "" : "s");
        System.out.printf("Java %s, %s lanes of fp32, %d processors; prompt %d tokens then decode stores; median of %d "
                        + "attend calls after %d untimed%n%n", Runtime.version(), Lanes.F,
                Runtime.getRuntime().availableProcessors(),
                o.prompt, o.runs, o.warmup);

        for (KvMode mode : o.modes) { // JIT warm-up: every kernel compiled before anything is timed
            try (KvCache cache = fill(port, g, mode, Math.min(2048, o.contexts[0] * 2), o.prompt, pool)) {
                for (int i = 0; i < o.jitCalls; i++) {
                    cache.attend(0, cache.capacity() - 1, q, out);
                }
            }
        }

        int nc = o.contexts.length;
        int nm = o.modes.size();
        double[][] micros = new double[nm][nc];
        double[][] mib = new double[nm][nc];
        long[][] allocated = new long[nm][nc];
        long[] workerIds = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("innerq-cpu-")).mapToLong(Thread::threadId).toArray();
        long workerBytes = 0;
        long calls = 0;
        for (int c = 0; c < nc; c++) {
            int position = o.contexts[c] - 1;
            KvCache[] caches = new KvCache[nm];
            for (int m = 0; m < nm; m++) {
                caches[m] = fill(port, g, o.modes.get(m), o.contexts[c], o.prompt, pool);
                mib[m][c] = caches[m].bytesInUse() / (1024.0 * 1024.0);
                for (int i = 0; i < o.warmup; i++) {
                    caches[m].attend(0, position, q, out);
                }
            }
            long[][] nanos = new long[nm][o.runs];
            long[] bytes = new long[nm];
            long workersBefore = sum(threads.getThreadAllocatedBytes(workerIds));
            for (int r = 0; r < o.runs; r++) { // rounds over all modes: a burst of load on the machine hits them alike
                for (int m = 0; m < nm; m++) {
                    long before = threads.getCurrentThreadAllocatedBytes();
                    long t0 = System.nanoTime();
                    caches[m].attend(0, position, q, out);
                    nanos[m][r] = System.nanoTime() - t0;
                    bytes[m] += threads.getCurrentThreadAllocatedBytes() - before;
                }
            }
            workerBytes += sum(threads.getThreadAllocatedBytes(workerIds)) - workersBefore;
            calls += (long) nm * o.runs;
            for (int m = 0; m < nm; m++) {
                Arrays.sort(nanos[m]);
                micros[m][c] = nanos[m][o.runs / 2] / 1e3;
                allocated[m][c] = bytes[m] / o.runs;
                caches[m].close();
            }
            System.err.printf("context %s done%n", label(o.contexts[c]));
        }
        print(o, micros, mib, allocated);
        System.out.printf(Locale.ROOT, "Heap allocated by the %d worker threads per timed attend call, on average: %d bytes%n",
                workerIds.length, calls == 0 ? 0 : workerBytes / calls);
        workers.close();
    }

    private static long sum(long[] xs) {
        long s = 0;
        for (long x : xs) {
            s += Math.max(0, x);
        }
        return s;
    }

    /** A cache of {@code context} tokens: a prompt, endPrefill, then decode stores up to the capacity. */
    private static KvCache fill(VectorKvCaches port, CacheGeometry g, KvMode mode, int context, int prompt, TokenPool pool) {
        KvCache cache = port.allocate(g, context, mode);
        int promptLength = Math.min(prompt, context);
        for (int t = 0; t < context; t++) {
            cache.store(0, t, pool.key(t), pool.value(t));
            if (t == promptLength - 1) {
                cache.endPrefill(promptLength);
            }
        }
        return cache;
    }

    private static void print(Options o, double[][] micros, double[][] mib, long[][] allocated) {
        int fp32 = o.modes.indexOf(KvMode.FP32);
        var sb = new StringBuilder();
        sb.append("## attend, µs per call (median); in brackets: x faster than fp32\n\n| mode |");
        for (int context : o.contexts) {
            sb.append(' ').append(label(context)).append(" |");
        }
        sb.append("\n|---|").append("---:|".repeat(o.contexts.length)).append('\n');
        for (int m = 0; m < o.modes.size(); m++) {
            sb.append("| ").append(o.modes.get(m).name()).append(" |");
            for (int c = 0; c < o.contexts.length; c++) {
                sb.append(String.format(Locale.ROOT, " %,.0f", micros[m][c]));
                if (fp32 >= 0) {
                    sb.append(String.format(Locale.ROOT, " (%.2fx)", micros[fp32][c] / micros[m][c]));
                }
                sb.append(" |");
            }
            sb.append('\n');
        }
        sb.append("\n## Bytes held (bytesInUse), MiB\n\n| mode |");
        for (int context : o.contexts) {
            sb.append(' ').append(label(context)).append(" |");
        }
        sb.append("\n|---|").append("---:|".repeat(o.contexts.length)).append('\n');
        for (int m = 0; m < o.modes.size(); m++) {
            sb.append("| ").append(o.modes.get(m).name()).append(" |");
            for (int c = 0; c < o.contexts.length; c++) {
                sb.append(String.format(Locale.ROOT, " %.2f |", mib[m][c]));
            }
            sb.append('\n');
        }
        long maxAllocated = Arrays.stream(allocated).flatMapToLong(Arrays::stream).max().orElse(0);
        sb.append(String.format(Locale.ROOT, "%nHeap allocated per timed attend call, largest over all cells: %d bytes%n",
                maxAllocated));
        System.out.print(sb);
    }

    private static String label(int tokens) {
        return tokens % 1024 == 0 ? (tokens / 1024) + "k" : Integer.toString(tokens);
    }

    /** Random tokens like a model's: keys with outlier channels and offsets, values and queries standard normal. */
    private static final class TokenPool {
        private final float[][] keys;   // [token][kvHead * headDim]
        private final float[][] values; // [token][kvHead * headDim]
        private final CacheGeometry g;

        TokenPool(CacheGeometry g, int tokens, long seed) {
            this.g = g;
            var random = new SplittableRandom(seed);
            keys = new float[tokens][g.kvDim()];
            values = new float[tokens][g.kvDim()];
            for (int t = 0; t < tokens; t++) {
                for (int i = 0; i < g.kvDim(); i++) {
                    int c = i % g.headDim();
                    double scale = c % 16 == 3 ? 8 : 1;
                    keys[t][i] = (float) (random.nextGaussian() * scale + (c % 5 == 1 ? 1.5 : 0));
                    values[t][i] = (float) random.nextGaussian();
                }
            }
        }

        float[] key(int t) {
            return keys[t % keys.length];
        }

        float[] value(int t) {
            return values[t % values.length];
        }

        float[] query(SplittableRandom random) {
            float[] q = new float[g.heads() * g.headDim()];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) random.nextGaussian();
            }
            return q;
        }
    }

    /** The longest context a run takes (2^24 tokens, the longest a model may declare). */
    private static final int MAX_CONTEXT = 1 << 24;

    private record Options(int[] contexts, List<KvMode> modes, int runs, int warmup, int prompt, int jitCalls, long seed,
                           int threads, int heads, int kvHeads) {

        static Options parse(String[] args) {
            int[] contexts = {1024, 2048, 4096, 8192, 16384, 32768};
            List<KvMode> modes = KvMode.all();
            int runs = 11;
            int warmup = 3;
            int prompt = 512;
            int jitCalls = 300;
            long seed = 1;
            int threads = Runtime.getRuntime().availableProcessors();
            int heads = 32;
            int kvHeads = 8;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                if (value == null) {
                    throw usage("missing value after " + args[i]);
                }
                switch (args[i]) {
                    case "--contexts" -> contexts = Arrays.stream(value.split(",")).mapToInt(Options::tokens).toArray();
                    case "--modes" -> modes = value.equals("all") ? KvMode.all()
                            : Arrays.stream(value.split(",")).map(KvMode::parse).toList();
                    case "--runs" -> runs = positive(args[i], value);
                    case "--warmup" -> warmup = whole(args[i], value, 0);
                    case "--prompt" -> prompt = positive(args[i], value);
                    case "--jit-calls" -> jitCalls = whole(args[i], value, 0);
                    case "--seed" -> seed = seed(value);
                    case "--threads" -> threads = positive(args[i], value);
                    case "--heads" -> heads = positive(args[i], value);
                    case "--kv-heads" -> kvHeads = positive(args[i], value);
                    default -> throw usage("unknown option " + args[i]);
                }
                i++;
            }
            var list = new ArrayList<>(modes);
            if (heads % kvHeads != 0) {
                throw usage("--heads " + heads + " must be a multiple of --kv-heads " + kvHeads);
            }
            return new Options(contexts, List.copyOf(list), runs, warmup, prompt, jitCalls, seed, threads, heads, kvHeads);
        }

        /** A context length: {@code 4096} or {@code 4k}, from 1 to 2^24 tokens. */
        private static int tokens(String s) {
            String t = s.strip().toLowerCase(Locale.ROOT);
            long n;
            try {
                n = t.endsWith("k") ? Long.parseLong(t.substring(0, t.length() - 1)) * 1024 : Long.parseLong(t);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n <= 0 || n > MAX_CONTEXT) {
                throw usage("--contexts takes lengths from 1 to %d (or 1k to 16384k), got '%s'".formatted(MAX_CONTEXT, s));
            }
            return (int) n;
        }

        private static int positive(String option, String value) {
            return whole(option, value, 1);
        }

        /** A whole number of at least {@code min}, or an error that names the option and the range. */
        private static int whole(String option, String value, int min) {
            long n;
            try {
                n = Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                n = Long.MIN_VALUE;
            }
            if (n < min || n > Integer.MAX_VALUE) {
                throw usage("%s must be a whole number from %d to %d, got '%s'".formatted(option, min,
                        Integer.MAX_VALUE, value));
            }
            return (int) n;
        }

        private static long seed(String value) {
            try {
                return Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                throw usage("--seed must be a whole number, got '" + value + "'");
            }
        }

        private static IllegalArgumentException usage(String problem) {
            return new IllegalArgumentException(problem + "; usage: AttentionBenchmark [--contexts 1k,2k,...] "
                    + "[--modes fp32,fp16,q8_0,kivi-2,kivi-4,innerq-base,innerq-small,innerq-hybrid,innerq-4|all] "
                    + "[--runs 11] [--warmup 3] [--prompt 512] [--jit-calls 300] [--seed 1] [--threads N] [--heads 32] "
                    + "[--kv-heads 8]");
        }
    }
}
