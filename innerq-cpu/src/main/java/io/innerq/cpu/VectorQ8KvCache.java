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
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.B2F;

/**
 * The q8_0 cache ({@link Q8KvCache}'s storage) with vectorized attention. Keys are grouped per token over channels,
 * along the score's reduction: each group's int8 codes are dotted with q and its scale d applied once. Values are
 * grouped along the output, so a tile of {@link #TILE} tokens is dequantized ({@code d * c}, shared by the query
 * heads of a KV head) into scratch and reduced by the fp32 kernel.
 */
final class VectorQ8KvCache implements KvCache {

    private static final int TILE = 16;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64; // 8 int8 codes, one per float lane

    private final Q8KvCache storage; // K, V int8 [layer][token][kvHead][channel]; d fp16 [layer][token][kvDim / Gq]
    private final CacheGeometry g;
    private final int capacity;
    private final int group;         // Gq: channels per group
    private final float[] tile;      // fp32 [TILE][kvHead][channel]: dequantized values
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
        for (int kvh = 0; kvh < g.kvHeads(); kvh++) {
            for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
                int h0 = kvh * perKv + j0;
                keyScores(storage.keys(layer), storage.keyScales(layer), kvh, n, q, h0, Math.min(DenseKernels.BLOCK, perKv - j0));
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

    /**
     * Scores of tokens {@code [0, n)} for query heads {@code h0 .. h0 + nb - 1} of KV head kvh: per group,
     * {@code d * sum_i q_i c_i}.
     */
    private void keyScores(byte[] codes, short[] d, int kvh, int n, float[] q, int h0, int nb) {
        int hd = g.headDim();
        int kvDim = g.kvDim();
        int groups = kvDim / group;
        int groupsPerHead = hd / group;
        int vectorEnd = group & -L;
        float scale = Fp32Attention.scoreScale(hd);
        int q0 = h0 * hd;
        int q1 = DenseKernels.row(q0, hd, 1, nb);
        int q2 = DenseKernels.row(q0, hd, 2, nb);
        int q3 = DenseKernels.row(q0, hd, 3, nb);
        int s0 = h0 * capacity;
        int s1 = DenseKernels.row(s0, capacity, 1, nb);
        int s2 = DenseKernels.row(s0, capacity, 2, nb);
        int s3 = DenseKernels.row(s0, capacity, 3, nb);
        for (int t = 0; t < n; t++) {
            int ko = t * kvDim + kvh * hd;
            int go = t * groups + kvh * groupsPerHead;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            float r0 = 0f;
            float r1 = 0f;
            float r2 = 0f;
            float r3 = 0f;
            for (int b = 0; b < groupsPerHead; b++) {
                int c0 = b * group;
                FloatVector p0 = FloatVector.zero(F);
                FloatVector p1 = FloatVector.zero(F);
                FloatVector p2 = FloatVector.zero(F);
                FloatVector p3 = FloatVector.zero(F);
                for (int c = c0; c < c0 + vectorEnd; c += L) {
                    FloatVector x = (FloatVector) ByteVector.fromArray(B, codes, ko + c).convertShape(B2F, F, 0);
                    p0 = x.fma(FloatVector.fromArray(F, q, q0 + c), p0);
                    p1 = x.fma(FloatVector.fromArray(F, q, q1 + c), p1);
                    p2 = x.fma(FloatVector.fromArray(F, q, q2 + c), p2);
                    p3 = x.fma(FloatVector.fromArray(F, q, q3 + c), p3);
                }
                float u0 = 0f;
                float u1 = 0f;
                float u2 = 0f;
                float u3 = 0f;
                for (int c = c0 + vectorEnd; c < c0 + group; c++) {
                    float x = codes[ko + c];
                    u0 += x * q[q0 + c];
                    u1 += x * q[q1 + c];
                    u2 += x * q[q2 + c];
                    u3 += x * q[q3 + c];
                }
                float db = Float.float16ToFloat(d[go + b]);
                FloatVector dv = FloatVector.broadcast(F, db);
                a0 = p0.fma(dv, a0);
                a1 = p1.fma(dv, a1);
                a2 = p2.fma(dv, a2);
                a3 = p3.fma(dv, a3);
                r0 += db * u0;
                r1 += db * u1;
                r2 += db * u2;
                r3 += db * u3;
            }
            r0 = (a0.reduceLanes(ADD) + r0) * scale;
            r1 = (a1.reduceLanes(ADD) + r1) * scale;
            r2 = (a2.reduceLanes(ADD) + r2) * scale;
            r3 = (a3.reduceLanes(ADD) + r3) * scale;
            scores[s0 + t] = r0;
            scores[s1 + t] = r1;
            scores[s2 + t] = r2;
            scores[s3 + t] = r3;
        }
    }

    /** {@code tile = d * c} for the values of tokens {@code [t0, t0 + tokens)}. */
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
