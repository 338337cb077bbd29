package io.innerq.port.out;

import io.innerq.cache.KvMode;

import java.util.function.IntConsumer;

/** Creates KV caches in a backend's layout for a model geometry. */
public interface KvCachePort {

    /**
     * A new, empty cache for one sequence of up to {@code capacity} tokens, storing keys and values as {@code mode}
     * says (the layouts are documented at {@link io.innerq.cache.KvMode} and its implementations).
     *
     * @throws IllegalArgumentException when this backend cannot store {@code mode} for this geometry
     */
    KvCache allocate(CacheGeometry geometry, int capacity, KvMode mode);

    /** A new fp32 cache: {@code allocate(geometry, capacity, KvMode.FP32)}. */
    default KvCache allocate(CacheGeometry geometry, int capacity) {
        return allocate(geometry, capacity, KvMode.FP32);
    }

    /**
     * Runs {@code tasks} independent pieces of attention, {@code task.accept(0 .. tasks - 1)}, each storing into and
     * attending over caches of this port that no other task touches, possibly on several threads at once; returns
     * when all are done. A batched step runs each sequence's attention as one task. A cache's results must not depend
     * on whether its attention ran here or alone. The default runs the tasks in order on the caller.
     */
    default void attendApart(int tasks, IntConsumer task) {
        for (int i = 0; i < tasks; i++) {
            task.accept(i);
        }
    }

    /** Shapes of a model's KV cache. */
    record CacheGeometry(int layers, int heads, int kvHeads, int headDim) {
        public CacheGeometry {
            if (layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads % kvHeads != 0) {
                throw new IllegalArgumentException(
                        "invalid cache geometry: layers %d, heads %d, kvHeads %d, headDim %d (heads must be a multiple of kvHeads)"
                                .formatted(layers, heads, kvHeads, headDim));
            }
        }

        /** Query heads that share one KV head. */
        public int groupSize() {
            return heads / kvHeads;
        }

        /** Elements of K (or V) per token per layer. */
        public int kvDim() {
            return kvHeads * headDim;
        }
    }
}
