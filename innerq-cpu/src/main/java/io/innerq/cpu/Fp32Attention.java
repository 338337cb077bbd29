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
    private final AttendThreads threads;
    private final CpuWorkers.Task heads = this::attendHeads; // task i: KV heads [i * kvHeads / tasks, ...)

    // The call in flight, read by the tasks.
    private float[] keys;
    private float[] values;
    private int tokens;
    private float[] q;
    private float[] out;
    private int tasks;

    /** Attention with the scratch of a cache of {@code capacity} tokens ({@link #scratch}). */
    Fp32Attention(CacheGeometry g, int capacity, float[] scores, float[] sums, AttendThreads threads) {
        this.g = g;
        this.stride = capacity;
        this.scores = scores;
        this.sums = sums;
        this.threads = threads;
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
     * Attention of every query head over tokens {@code [0, tokens)}. Split across threads, each takes a contiguous
     * range of KV heads, whose rows of a token are contiguous too.
     *
     * @param keys   fp32 {@code [token][kvHead][channel]}
     * @param values fp32 {@code [token][kvHead][channel]}
     */
    void attend(float[] keys, float[] values, int tokens, float[] q, float[] out) {
        long elements = (long) tokens * g.kvDim();
        this.keys = keys;
        this.values = values;
        this.tokens = tokens;
        this.q = q;
        this.out = out;
        this.tasks = threads.split(elements) ? Math.min(g.kvHeads(), threads.threads()) : 1;
        try {
            threads.run(tasks, elements, heads);
        } finally {
            this.keys = this.values = this.q = this.out = null;
        }
    }

    private void attendHeads(int task) {
        int kvh0 = task * g.kvHeads() / tasks;
        int kvh1 = (task + 1) * g.kvHeads() / tasks;
        int hd = g.headDim();
        int kvDim = g.kvDim();
        int perKv = g.groupSize();
        float scale = scoreScale(hd);
        int h0 = kvh0 * perKv;
        int h1 = kvh1 * perKv;
        Arrays.fill(out, h0 * hd, h1 * hd, 0f);
        for (int t0 = 0; t0 < tokens; t0 += TILE) { // token tiles: a tile's rows of the KV heads are read together
            int tile = Math.min(TILE, tokens - t0);
            for (int kvh = kvh0; kvh < kvh1; kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int hb = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.scores(keys, t0 * kvDim + kvh * hd, kvDim, tile, hd, q, hb * hd, hd,
                            scores, hb * stride + t0, stride, nb, scale);
                }
            }
        }
        for (int h = h0; h < h1; h++) {
            sums[h] = Softmax.exponentiate(scores, h * stride, tokens);
        }
        for (int t0 = 0; t0 < tokens; t0 += TILE) {
            int tile = Math.min(TILE, tokens - t0);
            for (int kvh = kvh0; kvh < kvh1; kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int hb = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.values(values, t0 * kvDim + kvh * hd, kvDim, tile, hd, scores, hb * stride + t0, stride,
                            out, hb * hd, hd, nb);
                }
            }
        }
        for (int h = h0; h < h1; h++) {
            DenseKernels.scale(out, h * hd, hd, 1f / sums[h]);
        }
    }

    /** {@code 1 / sqrt(headDim)}, the factor on every score (as the reference caches compute it). */
    static float scoreScale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }
}
