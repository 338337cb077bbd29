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
    private final float[] tile;      // fp32 [task's first KV head][TILE][task's KV heads][channel]: dequantized rows
    private final float[] scores;    // [heads][capacity] scores, then exp(score - max)
    private final float[] sums;      // [heads] sum of exp(score - max)
    private final AttendThreads threads;
    private final CpuWorkers.Task heads = this::attendHeads; // task i: KV heads [i * kvHeads / tasks, ...)

    // The call in flight, read by the tasks.
    private int layer;
    private int n;
    private float[] q;
    private float[] out;
    private int tasks;

    VectorQ8KvCache(CacheGeometry geometry, int capacity, AttendThreads threads) {
        storage = new Q8KvCache(geometry, capacity);
        g = geometry;
        this.capacity = capacity;
        group = storage.group();
        tile = new float[TILE * geometry.kvDim()];
        scores = Fp32Attention.scratch(geometry, capacity);
        sums = new float[geometry.heads()];
        this.threads = threads;
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        storage.store(layer, position, k, v);
    }

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

    /** Attention of the query heads of a contiguous range of KV heads, which dequantize their rows together. */
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
            dequantize(storage.keys(layer), storage.keyScales(layer), t0, tokens, kvh0 * hd, width, base);
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
            dequantize(storage.values(layer), storage.valueScales(layer), t0, tokens, kvh0 * hd, width, base);
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
