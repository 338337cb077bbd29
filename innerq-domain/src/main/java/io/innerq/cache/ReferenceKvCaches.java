package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;

/** The reference {@link KvCachePort}: scalar caches for every {@link KvMode}, which define the layouts. */
public final class ReferenceKvCaches implements KvCachePort {

    @Override
    public KvCache allocate(CacheGeometry geometry, int capacity, KvMode mode) {
        return switch (mode) {
            case KvMode.Fp32 m -> new Fp32KvCache(geometry, capacity);
            case KvMode.Fp16 m -> new Fp16KvCache(geometry, capacity);
            case KvMode.Q8 m -> new Q8KvCache(geometry, capacity);
            case KvMode.Kivi m -> new KiviKvCache(geometry, capacity, m);
            case InnerqConfig c -> new InnerqKvCache(geometry, capacity, c);
        };
    }
}
