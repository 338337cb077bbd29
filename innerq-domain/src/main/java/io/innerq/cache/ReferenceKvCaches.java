package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;

/** The reference {@link KvCachePort}: {@link Fp32KvCache}s. */
public final class ReferenceKvCaches implements KvCachePort {

    @Override
    public KvCache allocate(CacheGeometry geometry, int capacity) {
        return new Fp32KvCache(geometry, capacity);
    }
}
