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
    private final float[][] keys;   // fp32 [layer][token][kvHead][channel]
    private final float[][] values; // fp32 [layer][token][kvHead][channel]
    private final int[] length;     // [layer] highest stored position + 1
    private final float[] scores;   // [capacity] scratch

    public Fp32KvCache(CacheGeometry geometry, int capacity) {
        Positions.checkCapacity(capacity);
        this.g = geometry;
        this.capacity = capacity;
        int elements = Groups.length((long) capacity * geometry.kvDim(), "an fp32 cache of one layer");
        keys = new float[geometry.layers()][elements];
        values = new float[geometry.layers()][elements];
        length = new int[geometry.layers()];
        scores = new float[capacity];
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        Positions.check(position, capacity);
        System.arraycopy(k, 0, keys[layer], position * g.kvDim(), g.kvDim());
        System.arraycopy(v, 0, values[layer], position * g.kvDim(), g.kvDim());
        length[layer] = Math.max(length[layer], position + 1);
    }

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        Positions.check(position, capacity);
        ExactAttention.attend(g, keys[layer], values[layer], position + 1, q, out, scores);
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** Stored tokens (up to the highest position written, per layer) in fp32. */
    @Override
    public long bytesInUse() {
        long tokens = 0;
        for (int n : length) {
            tokens += n;
        }
        return 2L * tokens * g.kvDim() * Float.BYTES;
    }

    /** Bytes allocated: every position of every layer. */
    public long bytesReserved() {
        return 2L * g.layers() * capacity * g.kvDim() * Float.BYTES;
    }

    /** Keys: fp32 {@code [token][kvHead][channel]}, the live storage of a layer (read-only: never write it). */
    public float[] keys(int layer) {
        return keys[layer];
    }

    /** Values: fp32 {@code [token][kvHead][channel]}, the live storage of a layer (read-only: never write it). */
    public float[] values(int layer) {
        return values[layer];
    }

    @Override
    public void close() {
        // heap arrays: released with the object
    }
}
