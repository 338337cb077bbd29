package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;

/** Keys and values converted to fp16 on store; attention in fp32 over the converted values. */
public final class Fp16KvCache implements KvCache {

    private final CacheGeometry g;
    private final int capacity;
    private final short[][] keys;   // fp16 [layer][token][kvHead][channel]
    private final short[][] values; // fp16 [layer][token][kvHead][channel]
    private final int[] length;     // [layer] highest stored position + 1
    private final float[] scores;   // [capacity] scratch

    public Fp16KvCache(CacheGeometry geometry, int capacity) {
        Positions.checkCapacity(capacity);
        this.g = geometry;
        this.capacity = capacity;
        int elements = Groups.length((long) capacity * geometry.kvDim(), "an fp16 cache of one layer");
        keys = new short[geometry.layers()][elements];
        values = new short[geometry.layers()][elements];
        length = new int[geometry.layers()];
        scores = new float[capacity];
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        Positions.check(position, capacity);
        int o = position * g.kvDim();
        for (int i = 0; i < g.kvDim(); i++) {
            keys[layer][o + i] = Float.floatToFloat16(k[i]);
            values[layer][o + i] = Float.floatToFloat16(v[i]);
        }
        length[layer] = Math.max(length[layer], position + 1);
    }

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        Positions.check(position, capacity);
        int hd = g.headDim();
        int kvDim = g.kvDim();
        float scale = ExactAttention.scoreScale(hd);
        short[] kl = keys[layer];
        short[] vl = values[layer];
        for (int h = 0; h < g.heads(); h++) {
            int qo = h * hd;
            int kvo = (h / g.groupSize()) * hd;
            for (int t = 0; t <= position; t++) {
                float s = 0f;
                int ko = t * kvDim + kvo;
                for (int d = 0; d < hd; d++) {
                    s += q[qo + d] * Float.float16ToFloat(kl[ko + d]);
                }
                scores[t] = s * scale;
            }
            ExactAttention.softmax(scores, 0, position + 1);
            for (int d = 0; d < hd; d++) {
                out[qo + d] = 0f;
            }
            for (int t = 0; t <= position; t++) {
                float p = scores[t];
                int vo = t * kvDim + kvo;
                for (int d = 0; d < hd; d++) {
                    out[qo + d] += p * Float.float16ToFloat(vl[vo + d]);
                }
            }
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long bytesInUse() {
        long tokens = 0;
        for (int n : length) {
            tokens += n;
        }
        return 2L * tokens * g.kvDim() * 2;
    }

    long bytesReserved() {
        return 2L * g.layers() * capacity * g.kvDim() * 2;
    }

    // Read-only views of the storage, for adapters whose attention kernels read this layout. The arrays are the live
    // storage of a layer: read them, never write.

    /** Keys: fp16 {@code [token][kvHead][channel]}. */
    public short[] keys(int layer) {
        return keys[layer];
    }

    /** Values: fp16 {@code [token][kvHead][channel]}. */
    public short[] values(int layer) {
        return values[layer];
    }

    @Override
    public void close() {
    }
}
