package io.innerq.cpu;

import io.innerq.cache.Fp32KvCache;
import io.innerq.cache.Positions;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;

/** The fp32 cache ({@link Fp32KvCache}'s storage) with vectorized attention. */
final class VectorFp32KvCache implements KvCache {

    private final Fp32KvCache storage; // K, V fp32 [layer][token][kvHead][channel]
    private final Fp32Attention attention;

    VectorFp32KvCache(CacheGeometry geometry, int capacity, AttendThreads threads) {
        storage = new Fp32KvCache(geometry, capacity);
        attention = new Fp32Attention(geometry, capacity, Fp32Attention.scratch(geometry, capacity),
                new float[geometry.heads()], threads);
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        storage.store(layer, position, k, v);
    }

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        Positions.check(position, storage.capacity());
        attention.attend(storage.keys(layer), storage.values(layer), position + 1, q, out);
    }

    @Override
    public int capacity() {
        return storage.capacity();
    }

    @Override
    public long bytesInUse() {
        return storage.bytesInUse();
    }

    @Override
    public void close() {
        storage.close();
    }
}
