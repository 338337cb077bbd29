package io.innerq.cpu;

import io.innerq.tensor.BlockEncoder;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Matrix products allocate nothing once C2 has compiled them. Runs in a JVM of its own (a separate surefire
 * execution): what C2 compiles depends on the profiles the JVM has seen, and other test classes feed the kernels
 * heap segments and shapes that production never does.
 *
 * <p>Interpreted and C1-compiled Vector API code boxes vectors; C2's must not. That JVM runs with {@code -Xbatch}: a
 * thread that asks for a compilation waits for it, so after a fixed number of calls the kernels are compiled however
 * busy the machine is, and the warm-up is counted in calls, not seconds.
 */
class VectorMatVecAllocationTests {

    /** Windows of calls before giving up: C2 has compiled every kernel after at most 3, at every width. */
    private static final int WINDOWS = 40;
    private static final int CALLS = 500;

    @BeforeAll
    static void compilesInTheForeground() {
        assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments()).as("JVM arguments").contains("-Xbatch");
    }

    @BeforeEach
    void nativeWidth() {
        // A species wider than the machine's runs in Java without intrinsics, and that code boxes.
        assumeTrue(VectorKernels.F.vectorBitSize() <= FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                () -> "%d-bit vectors are not native here (the machine's are %d-bit): not intrinsified, they box"
                        .formatted(VectorKernels.F.vectorBitSize(), FloatVector.SPECIES_PREFERRED.vectorBitSize()));
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void callsAllocateNothingOnceCompiled(GgmlType type) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Tensor w = BlockEncoder.random(type, 128, 512, 41); // 64k weights: shared with the worker
        float[] x = BlockEncoder.randomVector(512, 42);
        float[] out = new float[128];
        float[][] xs = {x, BlockEncoder.randomVector(512, 43), x, x, x, x, x}; // four-, two- and one-input paths
        float[][] outs = new float[xs.length][128];
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (VectorMatVec mv = new VectorMatVec(2)) {
            long[] ids = Thread.getAllStackTraces().keySet().stream().filter(t -> !before.contains(t))
                    .mapToLong(Thread::threadId).toArray();
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = Thread.currentThread().threadId();
            assertThat(ids).hasSize(2);
            long products = -1;
            long batched = -1;
            int window = 0;
            while (window++ < WINDOWS && (products != 0 || batched != 0)) {
                long start = allocated(mx, ids);
                for (int i = 0; i < CALLS; i++) {
                    mv.matVec(w, x, out);
                }
                long middle = allocated(mx, ids);
                for (int i = 0; i < CALLS / 5; i++) {
                    mv.matMul(w, xs, outs, xs.length);
                    mv.matMul(w, xs, outs, 3); // the few-inputs path of F16
                }
                products = middle - start;
                batched = allocated(mx, ids) - middle;
            }
            assertThat(products).as("bytes allocated by %d matVec calls after %d windows", CALLS, window - 1).isZero();
            assertThat(batched).as("bytes allocated by %d matMul calls after %d windows", 2 * (CALLS / 5), window - 1)
                    .isZero();
        }
    }

    private static long allocated(com.sun.management.ThreadMXBean mx, long[] ids) {
        return mx.getThreadAllocatedBytes(ids[0]) + mx.getThreadAllocatedBytes(ids[1]);
    }
}
