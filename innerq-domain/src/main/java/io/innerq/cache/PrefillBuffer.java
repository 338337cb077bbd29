package io.innerq.cache;

import io.innerq.port.out.KvCachePort.CacheGeometry;

import java.util.Arrays;

/**
 * The prompt's keys and values in fp32 while it runs, so that prefill attention is exact. Grows by doubling (a
 * prompt's length is not known in advance); dropped at the end of prefill.
 */
final class PrefillBuffer {

    private final CacheGeometry g;
    private final int capacity;
    private final float[][] keys;   // fp32 [layer][token][kvHead][channel], grown by doubling up to capacity
    private final float[][] values; // fp32 [layer][token][kvHead][channel]
    private final int[] length;     // [layer] tokens stored

    PrefillBuffer(CacheGeometry g, int capacity) {
        this.g = g;
        this.capacity = capacity;
        int initial = Math.min(capacity, 64) * g.kvDim();
        keys = new float[g.layers()][initial];
        values = new float[g.layers()][initial];
        length = new int[g.layers()];
    }

    void store(int layer, int position, float[] k, float[] v) {
        int kvDim = g.kvDim();
        if ((position + 1) * kvDim > keys[layer].length) {
            int tokens = Math.min(capacity, Math.max(position + 1, 2 * keys[layer].length / kvDim));
            int n = Groups.length((long) tokens * kvDim, "the prefill buffer of one layer");
            keys[layer] = Arrays.copyOf(keys[layer], n);
            values[layer] = Arrays.copyOf(values[layer], n);
        }
        System.arraycopy(k, 0, keys[layer], position * kvDim, kvDim);
        System.arraycopy(v, 0, values[layer], position * kvDim, kvDim);
        length[layer] = Math.max(length[layer], position + 1);
    }

    void attend(int layer, int position, float[] q, float[] out, float[] scores) {
        ExactAttention.attend(g, keys[layer], values[layer], position + 1, q, out, scores);
    }

    int length(int layer) {
        return length[layer];
    }

    /** fp32 {@code [token][kvHead][channel]} of a layer. */
    float[] keys(int layer) {
        return keys[layer];
    }

    /** fp32 {@code [token][kvHead][channel]} of a layer. */
    float[] values(int layer) {
        return values[layer];
    }

    long bytesInUse() {
        long tokens = 0;
        for (int n : length) {
            tokens += n;
        }
        return 2L * tokens * g.kvDim() * Float.BYTES;
    }

    long bytesReserved() {
        long n = 0;
        for (int l = 0; l < g.layers(); l++) {
            n += keys[l].length + values[l].length;
        }
        return n * Float.BYTES;
    }
}
