package io.innerq.cpu;

import io.innerq.cache.Positions;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;

import java.util.Arrays;

/**
 * Attention for caches stored position-major in a compact type (fp16, q8_0), as llama.cpp's CPU backend does it:
 * {@link #TILE} tokens at a time are turned into fp32 rows in L1/L2 scratch by the subclass's {@link #fill}, then
 * reduced by the fp32 kernels. Work splits across threads by contiguous ranges of KV heads, whose rows sit together.
 */
abstract sealed class TiledKvCache implements KvCache permits VectorFp16KvCache, VectorQ8KvCache {

    /** Tokens turned into fp32 at a time. */
    static final int TILE = 16;

    final CacheGeometry g;
    private final int capacity;
    final float[] tile;            // fp32 [task's first KV head][TILE][task's KV heads][channel]: filled rows
    private final float[] scores;  // [heads][capacity] scores, then exp(score - max)
    private final float[] sums;    // [heads] sum of exp(score - max)
    private final AttendThreads threads;
    private final CpuWorkers.Task heads = this::attendHeads; // task i: KV heads [i * kvHeads / tasks, ...)

    // The call in flight, read by the tasks.
    private int layer;
    private int n;
    private float[] q;
    private float[] out;
    private int tasks;

    TiledKvCache(CacheGeometry geometry, int capacity, AttendThreads threads) {
        g = geometry;
        this.capacity = capacity;
        tile = new float[TILE * geometry.kvDim()];
        scores = Fp32Attention.scratch(geometry, capacity);
        sums = new float[geometry.heads()];
        this.threads = threads;
    }

    /**
     * Writes fp32 rows into {@code tile[base + i * width + c]} for tokens {@code [t0, t0 + tokens)} and channels
     * {@code [c0, c0 + width)} of the layer's keys ({@code keys}) or values.
     */
    abstract void fill(boolean keys, int layer, int t0, int tokens, int c0, int width, int base);

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        Positions.check(position, capacity);
        int n = position + 1;
        long elements = (long) n * g.kvDim();
        this.layer = layer;
        this.n = n;
        this.q = q;
        this.out = out;
        this.tasks = threads.split(elements) ? Math.min(g.kvHeads(), threads.threads()) : 1;
        try {
            threads.run(tasks, elements, heads);
        } finally {
            this.q = this.out = null;
        }
    }

    /** Attention of the query heads of a contiguous range of KV heads, which fill their tile rows together. */
    private void attendHeads(int task) {
        int kvh0 = task * g.kvHeads() / tasks;
        int kvh1 = (task + 1) * g.kvHeads() / tasks;
        int hd = g.headDim();
        int width = (kvh1 - kvh0) * hd; // tile row stride
        int base = kvh0 * TILE * hd;     // this task's part of the tile
        int perKv = g.groupSize();
        int n = this.n;
        float[] q = this.q;
        float[] out = this.out;
        float scale = Fp32Attention.scoreScale(hd);
        for (int t0 = 0; t0 < n; t0 += TILE) {
            int tokens = Math.min(TILE, n - t0);
            fill(true, layer, t0, tokens, kvh0 * hd, width, base);
            for (int kvh = kvh0; kvh < kvh1; kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int h0 = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.scores(tile, base + (kvh - kvh0) * hd, width, tokens, hd, q, h0 * hd, hd,
                            scores, h0 * capacity + t0, capacity, nb, scale);
                }
            }
        }
        for (int h = kvh0 * perKv; h < kvh1 * perKv; h++) {
            sums[h] = Softmax.exponentiate(scores, h * capacity, n);
        }
        Arrays.fill(out, kvh0 * perKv * hd, kvh1 * perKv * hd, 0f);
        for (int t0 = 0; t0 < n; t0 += TILE) {
            int tokens = Math.min(TILE, n - t0);
            fill(false, layer, t0, tokens, kvh0 * hd, width, base);
            for (int kvh = kvh0; kvh < kvh1; kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int h0 = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.values(tile, base + (kvh - kvh0) * hd, width, tokens, hd, scores, h0 * capacity + t0,
                            capacity, out, h0 * hd, hd, nb);
                }
            }
        }
        for (int h = kvh0 * perKv; h < kvh1 * perKv; h++) {
            DenseKernels.scale(out, h * hd, hd, 1f / sums[h]);
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }
}
