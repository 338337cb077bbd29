package io.innerq.cpu;

import io.innerq.cache.InnerqConfig;
import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCache;

import java.util.function.IntConsumer;
import io.innerq.port.out.KvCachePort;

/**
 * KV caches whose attention runs on the Java Vector API, for every {@link KvMode}. Storage, windows and flushing are
 * the reference caches' ({@link io.innerq.cache.ReferenceKvCaches}: one definition of each layout); this adapter
 * replaces their attention with kernels that read the stored form directly: packed codes with one scale per group
 * for InnerQ, per-element dequantization in lanes for KIVI, int8 with a scale per group for q8_0, fp16 converted a
 * tile at a time. Query heads that share a KV head read its cache together, in blocks of four (a GQA group of four
 * reads it once). The softmax is exact. A cache allocates its scratch once; {@code attend} allocates nothing.
 *
 * <p>Threads: made with the backend's {@link CpuWorkers}, a cache splits each {@code attend} over them by KV head
 * (the KV heads are independent: disjoint query heads, score rows and outputs; a KV head's result does not depend on
 * which thread computed it); calls over fewer than {@link AttendThreads#PARALLEL_MIN_ELEMENTS} cached elements run on
 * the caller. The workers take one caller at a time, as for {@link VectorMatVec} (the generation thread calls the
 * products and the attention in turn). Without workers, a cache runs on its caller alone. Either way one cache
 * serves one sequence on one thread.
 */
public final class VectorKvCaches implements KvCachePort {

    private final AttendThreads threads;
    private final Apart apart = new Apart();

    /** Caches whose attention runs on the caller alone. */
    public VectorKvCaches() {
        this(AttendThreads.SINGLE);
    }

    /** Caches whose attention is split over {@code workers} (shared with the matrix products, who made them). */
    public VectorKvCaches(CpuWorkers workers) {
        this(new AttendThreads(workers, AttendThreads.PARALLEL_MIN_ELEMENTS));
    }

    /** Caches split over {@code threads}: tests lower the size from which a call is split. */
    VectorKvCaches(AttendThreads threads) {
        this.threads = threads;
    }

    /**
     * The tasks on the workers, one claimed at a time, when there are several and workers to share; a task's attention
     * then runs on its thread alone (it is not split by KV head), with the same results.
     */
    @Override
    public void attendApart(int tasks, IntConsumer task) {
        CpuWorkers workers = threads.workers();
        if (tasks < 2 || workers == null || workers.threads() < 2) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        apart.task = task;
        try {
            workers.run(tasks, apart);
        } finally {
            apart.task = null;
        }
    }

    /** The call in flight of {@link #attendApart}: the workers take one caller at a time. */
    private static final class Apart implements CpuWorkers.Task {
        IntConsumer task;

        @Override
        public void run(int index) {
            task.accept(index);
        }
    }

    @Override
    public KvCache allocate(CacheGeometry geometry, int capacity, KvMode mode) {
        return switch (mode) {
            case KvMode.Fp32 m -> new VectorFp32KvCache(geometry, capacity, threads);
            case KvMode.Fp16 m -> new VectorFp16KvCache(geometry, capacity, threads);
            case KvMode.Q8 m -> new VectorQ8KvCache(geometry, capacity, threads);
            case KvMode.Kivi m -> new VectorKiviKvCache(geometry, capacity, m, threads);
            case InnerqConfig c -> new VectorInnerqKvCache(geometry, capacity, c, threads);
        };
    }
}
