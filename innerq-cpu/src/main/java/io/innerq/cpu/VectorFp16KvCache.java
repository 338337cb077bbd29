package io.innerq.cpu;

import io.innerq.cache.Fp16KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;

/**
 * The fp16 cache ({@link Fp16KvCache}'s storage) with vectorized attention: tiles are converted to fp32 by a plain
 * {@code Float.float16ToFloat} loop, which C2 compiles to F16C {@code vcvtph2ps}.
 */
final class VectorFp16KvCache extends TiledKvCache {

    private final Fp16KvCache storage; // K, V fp16 [layer][token][kvHead][channel]

    VectorFp16KvCache(CacheGeometry geometry, int capacity, AttendThreads threads) {
        super(geometry, capacity, threads);
        storage = new Fp16KvCache(geometry, capacity);
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        storage.store(layer, position, k, v);
    }

    @Override
    void fill(boolean keys, int layer, int t0, int tokens, int c0, int width, int base) {
        short[] src = keys ? storage.keys(layer) : storage.values(layer);
        int kvDim = g.kvDim();
        for (int i = 0; i < tokens; i++) {
            int from = (t0 + i) * kvDim + c0;
            int to = base + i * width;
            for (int c = 0; c < width; c++) {
                tile[to + c] = Float.float16ToFloat(src[from + c]);
            }
        }
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
