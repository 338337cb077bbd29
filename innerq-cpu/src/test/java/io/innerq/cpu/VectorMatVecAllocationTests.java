package io.innerq.cpu;

import io.innerq.tensor.BlockEncoder;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Matrix products allocate nothing once C2 has compiled them. Runs in a JVM of its own (a separate surefire
 * execution): what C2 compiles depends on the profiles the JVM has seen, and other test classes feed the kernels
 * heap segments and shapes that production never does.
 */
class VectorMatVecAllocationTests {

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void callsAllocateNothingOnceCompiled(GgmlType type) throws InterruptedException {
        // Interpreted and C1-compiled Vector API code boxes vectors; C2's must not. Warm up until a window of calls
        // allocates nothing on the caller and on the worker, or fail after 30 s.
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Tensor w = BlockEncoder.random(type, 128, 512, 41); // 64k weights: shared with the worker
        float[] x = BlockEncoder.randomVector(512, 42);
        float[] out = new float[128];
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (VectorMatVec mv = new VectorMatVec(2)) {
            long[] ids = Thread.getAllStackTraces().keySet().stream().filter(t -> !before.contains(t))
                    .mapToLong(Thread::threadId).toArray();
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = Thread.currentThread().threadId();
            assertThat(ids).hasSize(2);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long allocated;
            do {
                long start = mx.getThreadAllocatedBytes(ids[0]) + mx.getThreadAllocatedBytes(ids[1]);
                for (int i = 0; i < 500; i++) {
                    mv.matVec(w, x, out);
                }
                allocated = mx.getThreadAllocatedBytes(ids[0]) + mx.getThreadAllocatedBytes(ids[1]) - start;
            } while (allocated != 0 && System.nanoTime() < deadline);
            assertThat(allocated).as("bytes allocated by 500 calls after warm-up").isZero();
        }
    }
}
