package io.innerq.cpu;

import io.innerq.cache.InnerqConfig;
import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;

/**
 * KV caches whose attention runs on the Java Vector API, for every {@link KvMode}. Storage, windows and flushing are
 * the reference caches' ({@link io.innerq.cache.ReferenceKvCaches}: one definition of each layout); this adapter
 * replaces their attention with kernels that read the stored form directly: packed codes with one scale per group
 * for InnerQ, per-element dequantization in lanes for KIVI, int8 with a scale per group for q8_0, fp16 converted a
 * tile at a time. Query heads that share a KV head read its cache together, in blocks of four (a GQA group of four
 * reads it once). The softmax is exact. A cache allocates its scratch once; {@code attend} allocates nothing.
 * Single-threaded: one cache serves one sequence on one thread.
 */
public final class VectorKvCaches implements KvCachePort {

    @Override
    public KvCache allocate(CacheGeometry geometry, int capacity, KvMode mode) {
        return switch (mode) {
            case KvMode.Fp32 m -> new VectorFp32KvCache(geometry, capacity);
            case KvMode.Fp16 m -> new VectorFp16KvCache(geometry, capacity);
            case KvMode.Q8 m -> new VectorQ8KvCache(geometry, capacity);
            case KvMode.Kivi m -> new VectorKiviKvCache(geometry, capacity, m);
            case InnerqConfig c -> new VectorInnerqKvCache(geometry, capacity, c);
        };
    }
}
