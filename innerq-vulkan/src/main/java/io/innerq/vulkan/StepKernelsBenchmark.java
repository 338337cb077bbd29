package io.innerq.vulkan;

import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GPU time of the step's weight products ({@link StepKernels#matMul}) on Llama-3-8B's shapes, per stored type, with
 * the device's copy bandwidth measured in the same run.
 *
 * <p>Per shape and type: enough copies of a random matrix (valid values; fp16 scales in [2^-8, 2^-6)) that the
 * products rotate through more memory than the GPU's caches hold ({@code --rotate-mib}, default 512, at least two
 * copies). One submission records {@code --iterations} products, each on the next copy with a barrier between them
 * (as in a step); GPU timestamps around them give the time per product; the median of {@code --runs} submissions,
 * after untimed ones adding up to 20 ms of GPU time (so that clocks are up), is reported. GB/s: the matrix's stored
 * bytes ({@link DeviceMatrix#bytesRead}) per second, once per product however many tokens it takes. Copy bandwidth:
 * bytes read plus bytes written per second copying between two device-local buffers of {@code --copy-mib}, by
 * {@code vkCmdCopyBuffer} and by a copy kernel; a product's share is its GB/s over the better of the two (on the
 * H200's compute queue the kernel is far faster). {@code --shapes}: rows x cols; {@code --workgroups}: threads x rows
 * x units unrolled per workgroup, to compare shapes (default: the ones {@link StepKernels} picks; for matvec_q rows are
 * per subgroup and units are blocks); {@code --products}: the kinds of one-token Q4_0 and Q8_0 products to compare
 * ({@code float}, {@code int}, {@code dot}, {@code auto}; default auto).
 *
 * <pre>
 * java -cp ... io.innerq.vulkan.StepKernelsBenchmark [--shapes 4096x4096,1024x4096,14336x4096,4096x14336,128256x4096]
 *     [--types F16,Q4_0,...|all] [--tokens 1,32] [--iterations 50] [--runs 5] [--rotate-mib 512] [--copy-mib 1024]
 *     [--workgroups 128x2x2,64x4x1,...] [--products float,dot]
 * </pre>
 */
public final class StepKernelsBenchmark {

    private record Options(List<int[]> shapes, List<GgmlType> types, int[] tokens, int iterations, int runs,
                           long rotateBytes, long copyBytes, List<StepKernels.ProductShape> workgroups,
                           List<StepKernels.Products> products) {
    }

    /** Kernels to time: one StepKernels per kind of decode product and workgroup shape. */
    private record Variant(StepKernels kernels, StepKernels.ProductShape named) {
        String label(DeviceMatrix m, int tokens) {
            boolean integer = kernels.integerProduct(m, tokens);
            String shape = named != null ? named.toString()
                    : integer ? kernels.integerShape(m).toString() : kernels.shape(m, StepKernels.pass(tokens)).toString();
            return (integer ? kernels.decodeProducts() == StepKernels.Products.INTEGER_DOT ? "matvec_q_dot " : "matvec_q "
                    : "matmul ") + shape;
        }
    }

    /** One product's measurement. */
    record Row(int rows, int cols, GgmlType type, int tokens, String workgroup, int copies, double micros, long bytes) {
        double gbps() {
            return bytes / micros / 1e3;
        }
    }

    private StepKernelsBenchmark() {
    }

    public static void main(String[] args) {
        run(args, System.out);
    }

    /** Runs the benchmark with command-line {@code args}, printing to {@code out}. */
    public static void run(String[] args, PrintStream out) {
        Options o = parse(args);
        try (VulkanDevice device = VulkanDevice.open(VulkanDevice.Options.fromSystemProperties());
             KernelLibrary kernels = new KernelLibrary(device)) {
            double copyBuffer = Benchmarks.copyBandwidth(device, kernels, o.copyBytes(), Math.max(3, o.runs()), false);
            double copyKernel = Benchmarks.copyBandwidth(device, kernels, o.copyBytes(), Math.max(3, o.runs()), true);
            double copy = Math.max(copyBuffer, copyKernel);
            out.printf(Locale.ROOT, "# Weight products on %s%n%n", device.info());
            out.printf(Locale.ROOT, "Copy bandwidth (read + write) of %d MiB: vkCmdCopyBuffer %.1f GB/s, copy kernel %.1f GB/s; "
                    + "shares are of the better. Median of %d submissions of %d products each, a barrier between "
                    + "products, after 20 ms of untimed ones.%n%n", o.copyBytes() >> 20, copyBuffer, copyKernel,
                    o.runs(), o.iterations());
            List<Variant> variants = new ArrayList<>();
            for (StepKernels.Products p : o.products()) {
                if (o.workgroups().isEmpty()) {
                    variants.add(new Variant(new StepKernels(kernels, null, p), null));
                } else {
                    o.workgroups().forEach(s -> variants.add(new Variant(new StepKernels(kernels, s, p), s)));
                }
            }
            List<Row> rows = new ArrayList<>();
            for (int[] shape : o.shapes()) {
                for (GgmlType type : o.types()) {
                    rows.addAll(measure(device, variants, shape[0], shape[1], type, o));
                }
            }
            for (int tokens : o.tokens()) {
                out.printf(Locale.ROOT, "## %d token%s per product%n%n", tokens, tokens == 1 ? "" : "s");
                out.println("| shape (rows x cols) | type | kernel, workgroup (threads x rows x unroll) | µs per product | GB/s of weights | share of copy | copies rotated |");
                out.println("|---|---|---|---:|---:|---:|---:|");
                for (Row r : rows) {
                    if (r.tokens() == tokens) {
                        out.printf(Locale.ROOT, "| %d x %d | %s | %s | %.2f | %.1f | %.1f%% | %d |%n", r.rows(), r.cols(),
                                r.type(), r.workgroup(), r.micros(), r.gbps(), 100 * r.gbps() / copy, r.copies());
                    }
                }
                out.println();
            }
        }
    }

    private static List<Row> measure(VulkanDevice device, List<Variant> variants, int rows, int cols, GgmlType type,
                                     Options o) {
        List<Row> result = new ArrayList<>();
        int maxTokens = Arrays.stream(o.tokens()).max().orElse(1);
        long actFloats = (long) maxTokens * (cols + rows);
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = randomMatrix(arena, type, rows, cols);
            int copies = (int) Math.clamp((o.rotateBytes() + t.data().byteSize() - 1) / t.data().byteSize(), 2, 256);
            List<DeviceMatrix> matrices = new ArrayList<>();
            try (VulkanBuffer act = VulkanBuffer.deviceLocal(device, 4 * actFloats);
                 DescriptorPool pool = new DescriptorPool(device, copies * variants.size(), 2);
                 TimestampQueries queries = new TimestampQueries(device, 2);
                 CommandBatch batch = new CommandBatch(device)) {
                fillRandom(device, act, actFloats);
                for (int i = 0; i < copies; i++) {
                    matrices.add(DeviceMatrix.upload(device, t));
                }
                for (int v = 0; v < variants.size(); v++) {
                    StepKernels k = variants.get(v).kernels();
                    long[] sets = new long[copies];
                    for (int i = 0; i < copies; i++) {
                        sets[i] = k.matMulSet(pool, matrices.get(i), act);
                    }
                    for (int tokens : o.tokens()) {
                        String workgroup = variants.get(v).label(matrices.get(0), tokens);
                        double[] micros = new double[o.runs()];
                        // untimed submissions first, 20 ms of GPU time or more: clocks up, pipelines compiled
                        double warm = 0;
                        for (int r = -100; r < o.runs(); r++) {
                            batch.begin().resetQueries(queries, 0, 2).timestamp(queries, 0);
                            for (int i = 0; i < o.iterations(); i++) {
                                // x at 0 (token stride cols), out after all tokens' x (token stride rows)
                                k.matMul(batch, matrices.get(i % copies), sets[i % copies], tokens, 0, cols, tokens * cols, rows);
                                batch.barrier();
                            }
                            batch.timestamp(queries, 1).submitAndWait();
                            double[] ns = queries.readNanos(0, 2);
                            if (r >= 0) {
                                micros[r] = (ns[1] - ns[0]) / o.iterations() / 1e3;
                            } else if ((warm += ns[1] - ns[0]) >= 20e6) {
                                r = -1;
                            }
                        }
                        Row row = new Row(rows, cols, type, tokens, workgroup, copies, Benchmarks.median(micros), t.data().byteSize());
                        System.err.printf(Locale.ROOT, "%d x %d %s %s, %d tokens: %.2f µs, %.1f GB/s%n", rows, cols, type,
                                workgroup, tokens, row.micros(), row.gbps());   // progress, for runs cut short
                        result.add(row);
                    }
                }
            } finally {
                matrices.forEach(DeviceMatrix::close);
            }
        }
        return result;
    }

    /** A {@code rows x cols} matrix of {@code type}: a 4 MiB pattern of random valid blocks, repeated. */
    static Tensor randomMatrix(Arena arena, GgmlType type, int rows, int cols) {
        long bytes = type.bytesFor((long) rows * cols);
        MemorySegment data = arena.allocate(bytes, 16);
        long blockBytes = type.blockBytes() * (type.blockSize() == 1 ? 4L : 1L);
        long pattern = Math.min(bytes, (4L << 20) / blockBytes * blockBytes);
        var random = new SplittableRandom(type.ordinal() * 1_000_003L + rows);
        var f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        var i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long at = 0; at < pattern; at++) {
            data.set(ValueLayout.JAVA_BYTE, at, (byte) random.nextInt(256));
        }
        switch (type) {
            case F32 -> {
                for (long at = 0; at < pattern; at += 4) {
                    data.set(f32, at, (float) (2 * random.nextDouble() - 1));
                }
            }
            case F16 -> {
                for (long at = 0; at < pattern; at += 2) {
                    data.set(i16, at, Float.floatToFloat16((float) (2 * random.nextDouble() - 1)));
                }
            }
            case BF16 -> {
                for (long at = 0; at < pattern; at += 2) {
                    data.set(i16, at, (short) (Float.floatToRawIntBits((float) (2 * random.nextDouble() - 1)) >>> 16));
                }
            }
            case Q8_0, Q4_0, Q4_K, Q6_K -> {
                int scaleAt = type == GgmlType.Q6_K ? 208 : 0;
                int scales = type == GgmlType.Q4_K ? 2 : 1;   // Q4_K: d and dmin
                for (long block = 0; block < pattern; block += type.blockBytes()) {
                    for (int s = 0; s < scales; s++) {
                        data.set(i16, block + scaleAt + 2L * s, Float.floatToFloat16((float) Math.scalb(1 + random.nextDouble(), -8 - random.nextInt(2))));
                    }
                }
            }
        }
        for (long at = pattern; at < bytes; at += pattern) {
            MemorySegment.copy(data, 0, data, at, Math.min(pattern, bytes - at));
        }
        return new Tensor("bench-" + type + "-" + rows + "x" + cols, type, new long[]{cols, rows}, data);
    }

    private static void fillRandom(VulkanDevice device, VulkanBuffer act, long floats) {
        float[] values = new float[Math.toIntExact(floats)];
        var random = new SplittableRandom(1);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        try (VulkanBuffer staging = VulkanBuffer.hostVisible(device, 4 * floats);
             CommandBatch batch = new CommandBatch(device)) {
            staging.write(0, values, 0, values.length);
            batch.begin().copy(staging, 0, act, 0, 4 * floats).submitAndWait();
        }
    }

    private static Options parse(String[] args) {
        List<int[]> shapes = List.of(new int[]{4096, 4096}, new int[]{1024, 4096}, new int[]{14336, 4096},
                new int[]{4096, 14336}, new int[]{128256, 4096});
        List<GgmlType> types = List.of(GgmlType.F16, GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.BF16, GgmlType.F32,
                GgmlType.Q4_K, GgmlType.Q6_K);
        int[] tokens = {1, 32};
        int iterations = 50;
        int runs = 5;
        long rotate = 512L << 20;
        long copy = 1024L << 20;
        List<StepKernels.ProductShape> workgroups = List.of();
        List<StepKernels.Products> products = java.util.Collections.singletonList(null);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--shapes" -> shapes = Arrays.stream(v.split(",")).map(s -> pair(a, s)).toList();
                case "--types" -> types = v.equals("all") ? List.of(GgmlType.values())
                        : Arrays.stream(v.split(",")).map(s -> GgmlType.valueOf(s.strip().toUpperCase(Locale.ROOT))).toList();
                case "--tokens" -> tokens = Arrays.stream(v.split(",")).mapToInt(s -> Benchmarks.positive(a, s)).toArray();
                case "--iterations" -> iterations = Benchmarks.positive(a, v);
                case "--runs" -> runs = Benchmarks.positive(a, v);
                case "--rotate-mib" -> rotate = (long) Benchmarks.positive(a, v) << 20;
                case "--copy-mib" -> copy = (long) Benchmarks.positive(a, v) << 20;
                case "--workgroups" -> workgroups = Arrays.stream(v.split(",")).map(s -> shape(a, s)).toList();
                case "--products" -> products = Arrays.stream(v.split(",")).map(StepKernels.Products::parse)
                        .collect(java.util.stream.Collectors.toList());
                default -> throw new IllegalArgumentException("unknown option " + a + "; options: --shapes --types "
                        + "--tokens --iterations --runs --rotate-mib --copy-mib --workgroups --products");
            }
        }
        return new Options(shapes, types, tokens, iterations, runs, rotate, copy, workgroups, products);
    }

    private static StepKernels.ProductShape shape(String option, String s) {
        String[] p = s.strip().toLowerCase(Locale.ROOT).split("x");
        if (p.length < 2 || p.length > 3) {
            throw new IllegalArgumentException(option + " takes THREADSxROWS or THREADSxROWSxUNROLL, got " + s);
        }
        return new StepKernels.ProductShape(Benchmarks.positive(option, p[0]), Benchmarks.positive(option, p[1]),
                p.length == 3 ? Benchmarks.positive(option, p[2]) : 1);
    }

    private static int[] pair(String option, String s) {
        String[] p = s.strip().toLowerCase(Locale.ROOT).split("x");
        if (p.length != 2) {
            throw new IllegalArgumentException(option + " takes AxB pairs, got " + s);
        }
        return new int[]{Benchmarks.positive(option, p[0]), Benchmarks.positive(option, p[1])};
    }

}
