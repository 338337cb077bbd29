package io.innerq.cpu;

import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.BlockEncoder;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Times {@link ScalarMatVec} against {@link VectorMatVec} (one thread and {@code threads}) for every type on
 * 2048x2048 and 1376x512 (rows x cols) weights in native memory, and prints GB/s of weights read and the speed-up
 * over scalar. Not a test. About 25 s with the defaults. Run after {@code ./mvnw -pl innerq-domain,innerq-cpu install}:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp innerq-cpu/target/classes:innerq-cpu/target/test-classes:\
 * innerq-domain/target/classes:innerq-domain/target/test-classes io.innerq.cpu.MatVecBenchmark [threads] [ms]
 * </pre>
 *
 * {@code threads} defaults to the available processors, {@code ms} (time per measurement) to 250.
 */
final class MatVecBenchmark {

    private static final int[][] SHAPES = {{2048, 2048}, {1376, 512}}; // {rows, cols}

    private MatVecBenchmark() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        long nanos = (args.length > 1 ? Long.parseLong(args[1]) : 250) * 1_000_000L;
        System.out.printf("%s, %d processors, Java %s, %d threads, %d ms per measurement%n",
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
                Runtime.version(), threads, nanos / 1_000_000);
        try (Arena arena = Arena.ofShared();
             VectorMatVec one = new VectorMatVec(1);
             VectorMatVec many = new VectorMatVec(threads)) {
            MatVecPort scalar = new ScalarMatVec();
            warmUp(List.of(scalar, one, many), arena);
            System.out.printf("%-5s %-10s %7s %10s %10s %10s %8s %8s%n", "type", "rows x cols", "MiB",
                    "scalar", one.name(), many.name(), "x 1t", "x " + threads + "t");
            for (GgmlType type : GgmlType.values()) {
                for (int[] shape : SHAPES) {
                    Tensor w = offHeap(type, shape[0], shape[1], arena);
                    MemorySegment data = w.data();
                    float[] x = BlockEncoder.randomVector(shape[1], 2);
                    float[] out = new float[shape[0]];
                    double s = gbPerSecond(scalar, w, x, out, nanos);
                    double v1 = gbPerSecond(one, w, x, out, nanos);
                    double vn = gbPerSecond(many, w, x, out, nanos);
                    System.out.printf("%-5s %4d x %-4d %7.2f %10.2f %10.2f %10.2f %7.1fx %7.1fx%n", type, shape[0],
                            shape[1], data.byteSize() / 1048576.0, s, v1, vn, v1 / s, vn / s);
                }
            }
            System.out.println("columns scalar..: GB/s of weights read (1 GB = 1e9 bytes); x: speed-up over scalar");
        }
    }

    /** A random tensor in native memory, as weights mapped from a file are: kernels compiled for heap segments trap. */
    private static Tensor offHeap(GgmlType type, int rows, int cols, Arena arena) {
        Tensor heap = BlockEncoder.random(type, rows, cols, 1);
        MemorySegment data = arena.allocate(heap.data().byteSize(), 64).copyFrom(heap.data());
        return new Tensor(type.name(), type, heap.shape(), data);
    }

    /**
     * Runs every kernel many times on small tensors so that C2 has compiled them all before anything is timed: one
     * interpreted call on a large tensor takes seconds.
     */
    private static void warmUp(List<MatVecPort> ports, Arena arena) {
        for (GgmlType type : GgmlType.values()) {
            Tensor w = offHeap(type, 64, 512, arena);
            float[] x = BlockEncoder.randomVector(512, 4);
            float[] out = new float[64];
            for (MatVecPort mv : ports) {
                run(mv, w, x, out, 100_000_000L);
            }
        }
    }

    /** Weight bytes read per second, in GB/s, after a warm-up half as long. */
    private static double gbPerSecond(MatVecPort mv, Tensor w, float[] x, float[] out, long nanos) {
        run(mv, w, x, out, nanos / 2);
        long start = System.nanoTime();
        long calls = run(mv, w, x, out, nanos);
        long elapsed = System.nanoTime() - start;
        return (double) w.data().byteSize() * calls / elapsed;
    }

    private static long run(MatVecPort mv, Tensor w, float[] x, float[] out, long nanos) {
        long end = System.nanoTime() + nanos;
        long calls = 0;
        do {
            mv.matVec(w, x, out);
            calls++;
        } while (System.nanoTime() < end);
        return calls;
    }
}
