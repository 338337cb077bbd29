package io.innerq.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.innerq.tensor.BlockEncoder;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * VectorMatVec against the scalar reference, within {@link SummationBound} (float summation error, about
 * {@code 2 n u sum_c |w[r][c] * x[c]|} for n columns). Between thread counts, and between matMul and matVec, results
 * must agree exactly: each row is computed in a fixed order, whoever runs it and however it is batched.
 *
 * <p>One caller at a time is VectorMatVec's contract, so no test calls one instance from two threads at once.
 */
class VectorMatVecTests {

    private static final int L = VectorKernels.L;

    private static VectorMatVec single;
    private static VectorMatVec pair;
    private static VectorMatVec three;

    @BeforeAll
    static void start() {
        single = new VectorMatVec(1);
        pair = new VectorMatVec(2);
        three = new VectorMatVec(3);
    }

    @AfterAll
    static void stop() {
        single.close();
        pair.close();
        three.close();
    }

    /** Shapes per type: columns with vector tails where the block size allows, rows not a multiple of 2 or 3. */
    static Stream<Arguments> shapes() {
        List<Arguments> shapes = new ArrayList<>();
        for (GgmlType type : GgmlType.values()) {
            int[] cols = switch (type) {
                case F32, F16, BF16 -> new int[] {1, L - 1, 4 * L + 3, 1003, 1077, 2048};
                case Q8_0, Q4_0 -> new int[] {32, 96, 1024, 2080};
                case Q4_K, Q6_K -> new int[] {256, 768, 2048};
            };
            for (int c : cols) {
                for (int rows : new int[] {1, 7, 301}) {
                    shapes.add(Arguments.of(type, rows, c));
                }
            }
        }
        return shapes.stream();
    }

    @ParameterizedTest(name = "{0} {1}x{2}")
    @MethodSource("shapes")
    void matchesTheScalarReference(GgmlType type, int rows, int cols) {
        Tensor w = BlockEncoder.random(type, rows, cols, 31L * rows + cols);
        float[] x = BlockEncoder.randomVector(cols, 5);
        float[] expected = new float[rows];
        new ScalarMatVec().matVec(w, x, expected);

        float[] bounds = SummationBound.rows(w, x);
        for (VectorMatVec mv : List.of(single, pair, three)) {
            float[] out = new float[rows];
            mv.matVec(w, x, out);
            for (int r = 0; r < rows; r++) {
                assertThat(out[r]).as("%s row %d", mv.name(), r).isCloseTo(expected[r], within(bounds[r]));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void threadedAndSingleThreadedAgreeExactly(GgmlType type) {
        int rows = 997; // prime: chunks and thread shares never divide it
        int cols = 512;
        Tensor w = BlockEncoder.random(type, rows, cols, 11);
        float[] x = BlockEncoder.randomVector(cols, 12);
        float[] one = new float[rows];
        single.matVec(w, x, one);

        for (VectorMatVec mv : List.of(pair, three)) {
            float[] out = new float[rows + 3];
            Arrays.fill(out, Float.NaN);
            mv.matVec(w, x, out);
            assertThat(Arrays.copyOf(out, rows)).as(mv.name()).containsExactly(one);
            assertThat(Arrays.copyOfRange(out, rows, rows + 3)).as("past the rows").containsOnly(Float.NaN);
        }
    }

    @Test
    void manyCallsInARowEachSeeTheirOwnTensor() {
        // Alternating shapes and types: a late worker must never run a chunk of an old call on a new one.
        Tensor a = BlockEncoder.random(GgmlType.Q4_0, 640, 256, 1);
        Tensor b = BlockEncoder.random(GgmlType.F16, 129, 1000, 2);
        float[] xa = BlockEncoder.randomVector(256, 3);
        float[] xb = BlockEncoder.randomVector(1000, 4);
        float[] expectA = new float[640];
        float[] expectB = new float[129];
        single.matVec(a, xa, expectA);
        single.matVec(b, xb, expectB);
        float[] outA = new float[640];
        float[] outB = new float[129];

        for (int i = 0; i < 500; i++) {
            Arrays.fill(outA, Float.NaN);
            Arrays.fill(outB, Float.NaN);
            pair.matVec(a, xa, outA);
            three.matVec(b, xb, outB);
            three.matVec(a, xa, outA);
            pair.matVec(b, xb, outB);
            assertThat(outA).as("call %d", i).containsExactly(expectA);
            assertThat(outB).as("call %d", i).containsExactly(expectB);
        }
    }

    /**
     * matMul is matVec once per input, bit for bit: batched prompts must store the keys and values that token steps
     * store (a cache that rounds on store would turn a last-bit difference into a different code). Seven and nine
     * inputs take the four-row-by-four-input, four-, two- and one-input paths, with rows left over.
     */
    @ParameterizedTest(name = "{0} {1}x{2}")
    @MethodSource("shapes")
    void batchedProductsEqualOneAtATime(GgmlType type, int rows, int cols) {
        Tensor w = BlockEncoder.random(type, rows, cols, 31L * rows + cols);
        for (int n : new int[] {2, 3, 7, 9}) { // the few-inputs path, and tiles with their remainders
            float[][] xs = new float[n][];
            float[][] expected = new float[n][rows];
            for (int i = 0; i < n; i++) {
                xs[i] = BlockEncoder.randomVector(cols, 40 + i);
                single.matVec(w, xs[i], expected[i]);
            }
            for (VectorMatVec mv : List.of(single, pair)) {
                float[][] outs = new float[n][rows];
                mv.matMul(w, xs, outs, n);
                for (int i = 0; i < n; i++) {
                    assertThat(outs[i]).as("%s, %d inputs, input %d", mv.name(), n, i).containsExactly(expected[i]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void readsNativeSegmentsAsHeapOnes(GgmlType type) {
        int rows = 64;
        int cols = 768;
        Tensor heap = BlockEncoder.random(type, rows, cols, 21);
        float[] x = BlockEncoder.randomVector(cols, 22);
        float[] expected = new float[rows];
        pair.matVec(heap, x, expected);

        try (Arena arena = Arena.ofShared()) {
            MemorySegment data = arena.allocate(heap.data().byteSize(), 64).copyFrom(heap.data());
            Tensor offHeap = new Tensor("native", type, heap.shape(), data);
            float[] out = new float[rows];
            pair.matVec(offHeap, x, out);
            assertThat(out).containsExactly(expected);
        }
    }

    @Test
    void confinedSegmentsRunOnTheCaller() {
        Tensor heap = BlockEncoder.random(GgmlType.Q8_0, 256, 256, 23);
        float[] x = BlockEncoder.randomVector(256, 24);
        float[] expected = new float[256];
        single.matVec(heap, x, expected);

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(heap.data().byteSize()).copyFrom(heap.data());
            float[] out = new float[256];
            pair.matVec(new Tensor("confined", GgmlType.Q8_0, heap.shape(), data), x, out);
            assertThat(out).containsExactly(expected);
        }
    }

    /** Every fp16 bit pattern once: 2048 rows of 32 (plus a tail of 3 zeros), specials replaced by zero if asked. */
    private static Tensor everyHalf(boolean finiteOnly) {
        int cols = 35;
        MemorySegment bytes = MemorySegment.ofArray(new byte[2 * 2048 * cols]);
        var i16 = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < 65536; h++) {
            boolean special = (h & 0x7C00) == 0x7C00;
            bytes.set(i16, 2L * ((h / 32) * cols + h % 32), (short) (finiteOnly && special ? 0 : h));
        }
        return new Tensor(finiteOnly ? "finite halves" : "every half", GgmlType.F16, new long[] {cols, 2048}, bytes);
    }

    @Test
    void f16RowsConvertEveryFiniteHalfExactly() {
        // One-hot x per column: out[r] is element (r, j) itself, converted in registers (no infinity in the tensor).
        Tensor w = everyHalf(true);
        assertThat(Halves.allFinite(w)).isTrue();
        float[] x = new float[35];
        float[] out = new float[2048];
        for (int j = 0; j < 35; j++) {
            x[j] = 1f;
            single.matVec(w, x, out);
            x[j] = 0f;
            for (int r = 0; r < 2048; r++) {
                int h = 32 * r + j;
                float expected = j >= 32 || (h & 0x7C00) == 0x7C00 ? 0f : Float.float16ToFloat((short) h);
                assertThat(Float.floatToRawIntBits(out[r])).as("half 0x%04x", h)
                        .isEqualTo(Float.floatToRawIntBits(expected + 0f)); // + 0f: -0 * 1 + 0-sums give +0
            }
        }
    }

    @Test
    void f16TensorsWithInfinitiesOrNaNsGiveThemToTheirRows() {
        Tensor w = everyHalf(false);
        assertThat(Halves.allFinite(w)).isFalse();
        float[] x = new float[35];
        float[] out = new float[2048];
        for (int j = 0; j < 32; j++) {
            x[j] = 1f;
            pair.matVec(w, x, out);
            x[j] = 0f;
            for (int r = 0; r < 2048; r++) {
                int h = 32 * r + j;
                // a row's 32 halves share their exponent: rows of infinities and NaNs hold a NaN, and 0 * NaN is NaN
                if ((h & 0x7C00) == 0x7C00) {
                    assertThat(out[r]).as("half 0x%04x", h).isNaN();
                } else {
                    assertThat(out[r]).as("half 0x%04x", h).isEqualTo(Float.float16ToFloat((short) h) + 0f);
                }
            }
        }
    }

    @Test
    void smallProductsRunOnTheCallerAndStillMatch() {
        Tensor w = BlockEncoder.random(GgmlType.Q8_0, 4, 64, 9); // 256 weights, under the parallel threshold
        float[] x = BlockEncoder.randomVector(64, 10);
        float[] expected = new float[4];
        float[] out = new float[4];
        single.matVec(w, x, expected);

        three.matVec(w, x, out);

        assertThat(out).containsExactly(expected);
    }

    @Test
    void rejectsShortVectors() {
        Tensor w = BlockEncoder.random(GgmlType.F32, 8, 16, 1);

        assertThatThrownBy(() -> pair.matVec(w, new float[15], new float[8]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16");
        assertThatThrownBy(() -> pair.matVec(w, new float[16], new float[7]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("8");
    }

    @Test
    void nameStatesWidthAndThreads() {
        assertThat(pair.name()).isEqualTo("vector-f32x" + L + "-2t");
        assertThat(single.name()).isEqualTo("vector-f32x" + L + "-1t");
    }

    @Test
    void widthPropertyPicksTheSpecies() {
        assertThat(VectorKernels.species("128", FloatVector.SPECIES_512)).isEqualTo(FloatVector.SPECIES_128);
        assertThat(VectorKernels.species(" 512 ", FloatVector.SPECIES_256)).isEqualTo(FloatVector.SPECIES_512);
        assertThat(VectorKernels.species(null, FloatVector.SPECIES_128)).isEqualTo(FloatVector.SPECIES_128);
        assertThat(VectorKernels.species(null, FloatVector.SPECIES_64)).isEqualTo(FloatVector.SPECIES_256);
        assertThatThrownBy(() -> VectorKernels.species("1024", FloatVector.SPECIES_256))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("innerq.vector.bits=1024");
    }

    @Test
    void closeStopsTheWorkers() throws InterruptedException {
        VectorMatVec mv = new VectorMatVec(3);
        List<Thread> workers = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("innerq-cpu-")).toList();
        assertThat(workers).extracting(Thread::isDaemon).containsOnly(true);
        int before = workers.size();

        mv.close();

        long alive = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("innerq-cpu-")).count();
        assertThat(alive).isEqualTo(before - 2);
        assertThatThrownBy(() -> mv.matVec(BlockEncoder.random(GgmlType.F32, 1, 1, 1), new float[1], new float[1]))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void rejectsZeroThreads() {
        assertThatThrownBy(() -> new VectorMatVec(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
