package io.innerq.cpu;

import io.innerq.cache.Positions;
import io.innerq.cache.Q8KvCache;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

import static io.innerq.cpu.Lanes.F;
import static io.innerq.cpu.Lanes.L;
import static jdk.incubator.vector.VectorOperators.B2F;

/**
 * The q8_0 cache ({@link Q8KvCache}'s storage) with vectorized attention, as llama.cpp's CPU backend does it: a tile
 * of {@link #TILE} tokens is dequantized ({@code d * c}: int8 lanes widened to fp32, one multiply shared by the
 * query heads of a KV head) into L1/L2 scratch and reduced by the fp32 kernels, for keys and values alike.
 */
final class VectorQ8KvCache implements KvCache {

    private static final int TILE = 16;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64; // 8 int8 codes, one per float lane

    private final Q8KvCache storage; // K, V int8 [layer][token][kvHead][channel]; d fp16 [layer][token][kvDim / Gq]
    private final CacheGeometry g;
    private final int capacity;
    private final int group;         // Gq: channels per group
    private final float[] tile;      // fp32 [TILE][kvHead][channel]: dequantized keys, then values
    private final float[] scores;    // [heads][capacity] scores, then exp(score - max)
    private final float[] sums;      // [heads] sum of exp(score - max)

    VectorQ8KvCache(CacheGeometry geometry, int capacity) {
        storage = new Q8KvCache(geometry, capacity);
        g = geometry;
        this.capacity = capacity;
        group = storage.group();
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
        int perKv = g.groupSize();
        float scale = Fp32Attention.scoreScale(hd);
        for (int t0 = 0; t0 < n; t0 += TILE) {
            int tokens = Math.min(TILE, n - t0);
            dequantize(storage.keys(layer), storage.keyScales(layer), t0, tokens);
            for (int kvh = 0; kvh < g.kvHeads(); kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int h0 = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.scores(tile, kvh * hd, g.kvDim(), tokens, hd, q, h0 * hd, hd,
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
            dequantize(storage.values(layer), storage.valueScales(layer), t0, tokens);
            for (int kvh = 0; kvh < g.kvHeads(); kvh++) {
                for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                    int h0 = kvh * perKv + j0;
                    int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
                    DenseKernels.values(tile, kvh * hd, g.kvDim(), tokens, hd, scores, h0 * capacity + t0, capacity,
                            out, h0 * hd, hd, nb);
                }
            }
        }
        for (int h = 0; h < g.heads(); h++) {
            DenseKernels.scale(out, h * hd, hd, 1f / sums[h]);
        }
    }

    /** {@code tile = d * c} for tokens {@code [t0, t0 + tokens)} of int8 keys or values. */
    private void dequantize(byte[] codes, short[] d, int t0, int tokens) {
        int kvDim = g.kvDim();
        int groups = kvDim / group;
        int vectorEnd = group & -L;
        for (int i = 0; i < tokens; i++) {
            int co = (t0 + i) * kvDim;
            for (int b = 0; b < groups; b++) {
                float db = Float.float16ToFloat(d[(t0 + i) * groups + b]);
                int o = b * group;
                for (int c = o; c < o + vectorEnd; c += L) {
                    ((FloatVector) ByteVector.fromArray(B, codes, co + c).convertShape(B2F, F, 0)).mul(db)
                            .intoArray(tile, i * kvDim + c);
                }
                for (int c = o + vectorEnd; c < o + group; c++) {
                    tile[i * kvDim + c] = db * codes[co + c];
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
        return storage.bytesInUse();
    }

    @Override
    public void close() {
        storage.close();
    }
}
