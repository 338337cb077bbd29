package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;

/**
 * The reference cache: keys and values in fp32, attention in plain loops. Defines what every other cache's
 * attention approximates.
 */
public final class Fp32KvCache implements KvCache {

    private final CacheGeometry g;
    private final int capacity;
    private final float[][] keys;   // [layer][position * kvDim + kvHead * headDim + d]
    private final float[][] values; // [layer][position * kvDim + kvHead * headDim + d]
    private final float[] scores;   // [capacity] scratch

    public Fp32KvCache(CacheGeometry geometry, int capacity) {
        this.g = geometry;
        this.capacity = capacity;
        long elements = (long) capacity * geometry.kvDim();
        if (elements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("an fp32 cache of %d tokens x %d exceeds one Java array per layer"
                    .formatted(capacity, geometry.kvDim()));
        }
        keys = new float[geometry.layers()][(int) elements];
        values = new float[geometry.layers()][(int) elements];
        scores = new float[capacity];
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        checkPosition(position);
        System.arraycopy(k, 0, keys[layer], position * g.kvDim(), g.kvDim());
        System.arraycopy(v, 0, values[layer], position * g.kvDim(), g.kvDim());
    }

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        checkPosition(position);
        int hd = g.headDim();
        int kvDim = g.kvDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] kl = keys[layer];
        float[] vl = values[layer];
        for (int h = 0; h < g.heads(); h++) {
            int qo = h * hd;
            int kvo = (h / g.groupSize()) * hd;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t <= position; t++) {
                float s = 0f;
                int ko = t * kvDim + kvo;
                for (int d = 0; d < hd; d++) {
                    s += q[qo + d] * kl[ko + d];
                }
                s *= scale;
                scores[t] = s;
                max = Math.max(max, s);
            }
            float sum = 0f;
            for (int t = 0; t <= position; t++) {
                float e = (float) Math.exp(scores[t] - max);
                scores[t] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int d = 0; d < hd; d++) {
                out[qo + d] = 0f;
            }
            for (int t = 0; t <= position; t++) {
                float p = scores[t] * inv;
                int vo = t * kvDim + kvo;
                for (int d = 0; d < hd; d++) {
                    out[qo + d] += p * vl[vo + d];
                }
            }
        }
    }

    private void checkPosition(int position) {
        if (position < 0 || position >= capacity) {
            throw new IndexOutOfBoundsException("position %d outside the cache's %d tokens".formatted(position, capacity));
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long bytesInUse() {
        return 2L * g.layers() * capacity * g.kvDim() * Float.BYTES;
    }

    @Override
    public void close() {
        // heap arrays: released with the object
    }
}
