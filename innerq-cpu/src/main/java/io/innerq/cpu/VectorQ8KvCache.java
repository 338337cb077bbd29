package io.innerq.cpu;

import io.innerq.cache.Q8KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static io.innerq.cpu.Lanes.F;
import static io.innerq.cpu.Lanes.L;
import static jdk.incubator.vector.VectorOperators.B2F;

/**
 * The q8_0 cache ({@link Q8KvCache}'s storage) with vectorized attention: tiles are dequantized ({@code d * c}: int8
 * lanes widened to fp32, one multiply per group), for keys and values alike.
 */
final class VectorQ8KvCache extends TiledKvCache {

    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64; // 8 int8 codes, one per float lane

    private final Q8KvCache storage; // K, V int8 [layer][token][kvHead][channel]; d fp16 [layer][token][kvDim / Gq]
    private final int group;         // Gq: channels per group

    VectorQ8KvCache(CacheGeometry geometry, int capacity, AttendThreads threads) {
        super(geometry, capacity, threads);
        storage = new Q8KvCache(geometry, capacity);
        group = storage.group();
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        storage.store(layer, position, k, v);
    }

    @Override
    void fill(boolean keys, int layer, int t0, int tokens, int c0, int width, int base) {
        if (keys) {
            dequantize(storage.keys(layer), storage.keyScales(layer), t0, tokens, c0, width, base);
        } else {
            dequantize(storage.values(layer), storage.valueScales(layer), t0, tokens, c0, width, base);
        }
    }

    /**
     * {@code tile[base + i * width + c] = d * c} for tokens {@code [t0, t0 + tokens)} of int8 keys or values,
     * channels {@code [c0, c0 + width)} (whole groups: a group never crosses a head).
     */
    private void dequantize(byte[] codes, short[] d, int t0, int tokens, int c0, int width, int base) {
        int kvDim = g.kvDim();
        int groups = kvDim / group;
        int vectorEnd = group & -L;
        for (int i = 0; i < tokens; i++) {
            int co = (t0 + i) * kvDim;
            int to = base + i * width - c0;
            for (int b = c0 / group; b < (c0 + width) / group; b++) {
                float db = Float.float16ToFloat(d[(t0 + i) * groups + b]);
                int o = b * group;
                for (int c = o; c < o + vectorEnd; c += L) {
                    ((FloatVector) ByteVector.fromArray(B, codes, co + c).convertShape(B2F, F, 0)).mul(db)
                            .intoArray(tile, to + c);
                }
                for (int c = o + vectorEnd; c < o + group; c++) {
                    tile[to + c] = db * codes[co + c];
                }
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
