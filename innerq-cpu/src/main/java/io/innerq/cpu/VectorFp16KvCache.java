package io.innerq.cpu;

import io.innerq.cache.Fp16KvCache;
import io.innerq.cache.Positions;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;

import java.util.Arrays;

/**
 * The fp16 cache ({@link Fp16KvCache}'s storage) with vectorized attention: {@link #TILE} tokens at a time are
 * converted to fp32 in L1/L2 scratch (a plain {@code Float.float16ToFloat} loop, which C2 compiles to F16C
 * {@code vcvtph2ps}) and reduced by the fp32 kernels.
 */
final class VectorFp16KvCache implements KvCache {

    /** Tokens converted at a time. */
    private static final int TILE = 16;

    private final Fp16KvCache storage; // K, V fp16 [layer][token][kvHead][channel]
    private final CacheGeometry g;
    private final int capacity;
    private final float[] tile;        // fp32 [TILE][kvHead][channel]: rows converted from fp16
    private final float[] scores;      // [heads][capacity] scores, then exp(score - max)
    private final float[] sums;        // [heads] sum of exp(score - max)

    VectorFp16KvCache(CacheGeometry geometry, int capacity) {
        storage = new Fp16KvCache(geometry, capacity);
        g = geometry;
        this.capacity = capacity;
        tile = new float[TILE * geometry.kvDim()];
        scores = Fp32Attention.scratch(geometry, capacity);
        sums = new float[geometry.heads()];
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        storage.store(layer, position, k, v);
    }

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        Positions.check(position, capacity);
        int n = position + 1;
        int hd = g.headDim();
        int kvDim = g.kvDim();
        int perKv = g.groupSize();
        float scale = Fp32Attention.scoreScale(hd);
        short[] keys = storage.keys(layer);
        short[] values = storage.values(layer);
        for (int t0 = 0; t0 < n; t0 += TILE) {
            int tokens = Math.min(TILE, n - t0);
            convert(keys, t0 * kvDim, tokens * kvDim);
            for (int kvh = 0; kvh < g.kvHeads(); kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int h0 = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.scores(tile, kvh * hd, kvDim, tokens, hd, q, h0 * hd, hd,
                            scores, h0 * capacity + t0, capacity, nb, scale);
                }
            }
        }
        for (int h = 0; h < g.heads(); h++) {
            sums[h] = Softmax.exponentiate(scores, h * capacity, n);
        }
        Arrays.fill(out, 0, g.heads() * hd, 0f);
        for (int t0 = 0; t0 < n; t0 += TILE) {
            int tokens = Math.min(TILE, n - t0);
            convert(values, t0 * kvDim, tokens * kvDim);
            for (int kvh = 0; kvh < g.kvHeads(); kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int h0 = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.values(tile, kvh * hd, kvDim, tokens, hd, scores, h0 * capacity + t0, capacity,
                            out, h0 * hd, hd, nb);
                }
            }
        }
        for (int h = 0; h < g.heads(); h++) {
            DenseKernels.scale(out, h * hd, hd, 1f / sums[h]);
        }
    }

    /** {@code tile[0, count) = fp32(src[from, from + count))}. */
    private void convert(short[] src, int from, int count) {
        for (int i = 0; i < count; i++) {
            tile[i] = Float.float16ToFloat(src[from + i]);
        }
    }

    @Override
    public int capacity() {
        return capacity;
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
