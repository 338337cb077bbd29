package io.innerq.cpu;

import io.innerq.port.out.KvCachePort.CacheGeometry;

import java.util.Arrays;

/**
 * Exact attention over fp32 keys and values in the position-major layout {@code [token][kvHead][channel]}: the fp32
 * cache, and the running prompt of the modes with exact prefill. Per KV head and block of query heads: scores, then
 * the softmax of each head, then the weighted sum of values, divided by the softmax's sum at the end.
 */
final class Fp32Attention {

    /**
     * Tokens per tile. Rows are {@code [token][kvHead][channel]}: a KV head's rows lie a page (8 heads x 128 x 4
     * bytes) apart, so its rows alone stream badly; a tile reads its tokens' rows for every KV head before moving on.
     */
    private static final int TILE = 8;

    private final CacheGeometry g;
    private final int stride;     // score row stride: the capacity
    private final float[] scores; // [heads][capacity] scores, then exp(score - max); the owning cache's scratch
    private final float[] sums;   // [heads] sum of exp(score - max)

    /** Attention with the scratch of a cache of {@code capacity} tokens ({@link #scratch}). */
    Fp32Attention(CacheGeometry g, int capacity, float[] scores, float[] sums) {
        this.g = g;
        this.stride = capacity;
        this.scores = scores;
        this.sums = sums;
    }

    /** Score rows for every query head: fp32 {@code [heads][capacity]}. */
    static float[] scratch(CacheGeometry g, int capacity) {
        long n = (long) g.heads() * capacity;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "attention scores of %d heads x %d tokens exceed one Java array: lower the capacity"
                    .formatted(g.heads(), capacity));
        }
        return new float[(int) n];
    }

    /**
     * Attention of every query head over tokens {@code [0, tokens)}.
     *
     * @param keys   fp32 {@code [token][kvHead][channel]}
     * @param values fp32 {@code [token][kvHead][channel]}
     */
    void attend(float[] keys, float[] values, int tokens, float[] q, float[] out) {
        int hd = g.headDim();
        int kvDim = g.kvDim();
        int perKv = g.groupSize();
        float scale = scoreScale(hd);
        Arrays.fill(out, 0, g.heads() * hd, 0f);
        for (int t0 = 0; t0 < tokens; t0 += TILE) { // token tiles: a tile's rows of every KV head are read together
            int tile = Math.min(TILE, tokens - t0);
            for (int kvh = 0; kvh < g.kvHeads(); kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int h0 = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.scores(keys, t0 * kvDim + kvh * hd, kvDim, tile, hd, q, h0 * hd, hd,
                            scores, h0 * stride + t0, stride, nb, scale);
                }
            }
        }
        for (int h = 0; h < g.heads(); h++) {
            sums[h] = Softmax.exponentiate(scores, h * stride, tokens);
        }
        for (int t0 = 0; t0 < tokens; t0 += TILE) {
            int tile = Math.min(TILE, tokens - t0);
            for (int kvh = 0; kvh < g.kvHeads(); kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int h0 = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.values(values, t0 * kvDim + kvh * hd, kvDim, tile, hd, scores, h0 * stride + t0, stride,
                            out, h0 * hd, hd, nb);
                }
            }
        }
        for (int h = 0; h < g.heads(); h++) {
            DenseKernels.scale(out, h * hd, hd, 1f / sums[h]);
        }
    }

    /** {@code 1 / sqrt(headDim)}, the factor on every score (as the reference caches compute it). */
    static float scoreScale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }
}
