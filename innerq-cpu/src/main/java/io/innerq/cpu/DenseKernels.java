package io.innerq.cpu;

import jdk.incubator.vector.FloatVector;

import static io.innerq.cpu.Lanes.F;
import static io.innerq.cpu.Lanes.L;
import static jdk.incubator.vector.VectorOperators.ADD;

/**
 * Attention kernels over fp32 rows (the fp32 cache, prompts, sinks and windows, tiles converted from fp16 or q8_0),
 * for a block of up to {@link #BLOCK} query heads that share a KV head: every row is loaded once for the whole block.
 *
 * <p>Addressing: row i of a token range is {@code x[base + i * stride, + hd)}; the block's query head j (j < nb) reads
 * {@code q[qo + j * qStride, + hd)}, writes scores {@code s[so + j * sStride + i]}, reads probabilities
 * {@code p[po + j * pStride + i]} and accumulates {@code out[oo + j * oStride, + hd)}. A block of fewer than
 * {@link #BLOCK} heads repeats its last head in the spare registers and stores only its own results.
 */
final class DenseKernels {

    /** Query heads per block: four accumulators per lane group stay in registers. */
    static final int BLOCK = 4;
    /** Tokens per tile of the value kernel: its rows stay in L1 while the channel pairs sweep them. */
    private static final int TILE = 64;

    private DenseKernels() {
    }

    /** {@code s_j[i] = scale * q_j . k_i} for rows {@code i in [0, tokens)}. */
    static void scores(float[] k, int kBase, int kStride, int tokens, int hd,
                       float[] q, int qo, int qStride, float[] s, int so, int sStride, int nb, float scale) {
        int q0 = qo;
        int q1 = qo + Math.min(1, nb - 1) * qStride;
        int q2 = qo + Math.min(2, nb - 1) * qStride;
        int q3 = qo + Math.min(3, nb - 1) * qStride;
        int vectorEnd = hd & -L;
        for (int i = 0; i < tokens; i++) {
            int ko = kBase + i * kStride;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int c = 0; c < vectorEnd; c += L) {
                FloatVector x = FloatVector.fromArray(F, k, ko + c);
                a0 = x.fma(FloatVector.fromArray(F, q, q0 + c), a0);
                a1 = x.fma(FloatVector.fromArray(F, q, q1 + c), a1);
                a2 = x.fma(FloatVector.fromArray(F, q, q2 + c), a2);
                a3 = x.fma(FloatVector.fromArray(F, q, q3 + c), a3);
            }
            float r0 = a0.reduceLanes(ADD);
            float r1 = a1.reduceLanes(ADD);
            float r2 = a2.reduceLanes(ADD);
            float r3 = a3.reduceLanes(ADD);
            for (int c = vectorEnd; c < hd; c++) {
                float x = k[ko + c];
                r0 += x * q[q0 + c];
                r1 += x * q[q1 + c];
                r2 += x * q[q2 + c];
                r3 += x * q[q3 + c];
            }
            store(s, so + i, sStride, nb, r0 * scale, r1 * scale, r2 * scale, r3 * scale);
        }
    }

    /** {@code out_j += sum_i p_j[i] * v_i} over rows {@code i in [0, tokens)}. */
    static void values(float[] v, int vBase, int vStride, int tokens, int hd,
                       float[] p, int po, int pStride, float[] out, int oo, int oStride, int nb) {
        int p0 = po;
        int p1 = po + Math.min(1, nb - 1) * pStride;
        int p2 = po + Math.min(2, nb - 1) * pStride;
        int p3 = po + Math.min(3, nb - 1) * pStride;
        int o0 = oo;
        int o1 = oo + Math.min(1, nb - 1) * oStride;
        int o2 = oo + Math.min(2, nb - 1) * oStride;
        int o3 = oo + Math.min(3, nb - 1) * oStride;
        for (int t0 = 0; t0 < tokens; t0 += TILE) {
            int t1 = Math.min(tokens, t0 + TILE);
            int c = 0;
            for (; c + 2 * L <= hd; c += 2 * L) { // two lane groups x four heads: eight accumulators
                FloatVector a0 = FloatVector.fromArray(F, out, o0 + c);
                FloatVector a1 = FloatVector.fromArray(F, out, o1 + c);
                FloatVector a2 = FloatVector.fromArray(F, out, o2 + c);
                FloatVector a3 = FloatVector.fromArray(F, out, o3 + c);
                FloatVector b0 = FloatVector.fromArray(F, out, o0 + c + L);
                FloatVector b1 = FloatVector.fromArray(F, out, o1 + c + L);
                FloatVector b2 = FloatVector.fromArray(F, out, o2 + c + L);
                FloatVector b3 = FloatVector.fromArray(F, out, o3 + c + L);
                for (int i = t0; i < t1; i++) {
                    int vo = vBase + i * vStride + c;
                    FloatVector x = FloatVector.fromArray(F, v, vo);
                    FloatVector y = FloatVector.fromArray(F, v, vo + L);
                    FloatVector w = FloatVector.broadcast(F, p[p0 + i]);
                    a0 = x.fma(w, a0);
                    b0 = y.fma(w, b0);
                    w = FloatVector.broadcast(F, p[p1 + i]);
                    a1 = x.fma(w, a1);
                    b1 = y.fma(w, b1);
                    w = FloatVector.broadcast(F, p[p2 + i]);
                    a2 = x.fma(w, a2);
                    b2 = y.fma(w, b2);
                    w = FloatVector.broadcast(F, p[p3 + i]);
                    a3 = x.fma(w, a3);
                    b3 = y.fma(w, b3);
                }
                store(out, c, o0, o1, o2, o3, nb, a0, a1, a2, a3);
                store(out, c + L, o0, o1, o2, o3, nb, b0, b1, b2, b3);
            }
            for (; c + L <= hd; c += L) {
                FloatVector a0 = FloatVector.fromArray(F, out, o0 + c);
                FloatVector a1 = FloatVector.fromArray(F, out, o1 + c);
                FloatVector a2 = FloatVector.fromArray(F, out, o2 + c);
                FloatVector a3 = FloatVector.fromArray(F, out, o3 + c);
                for (int i = t0; i < t1; i++) {
                    FloatVector x = FloatVector.fromArray(F, v, vBase + i * vStride + c);
                    a0 = x.fma(FloatVector.broadcast(F, p[p0 + i]), a0);
                    a1 = x.fma(FloatVector.broadcast(F, p[p1 + i]), a1);
                    a2 = x.fma(FloatVector.broadcast(F, p[p2 + i]), a2);
                    a3 = x.fma(FloatVector.broadcast(F, p[p3 + i]), a3);
                }
                store(out, c, o0, o1, o2, o3, nb, a0, a1, a2, a3);
            }
            for (; c < hd; c++) {
                float r0 = 0f;
                float r1 = 0f;
                float r2 = 0f;
                float r3 = 0f;
                for (int i = t0; i < t1; i++) {
                    float x = v[vBase + i * vStride + c];
                    r0 += p[p0 + i] * x;
                    r1 += p[p1 + i] * x;
                    r2 += p[p2 + i] * x;
                    r3 += p[p3 + i] * x;
                }
                out[o0 + c] += r0;
                if (nb > 1) {
                    out[o1 + c] += r1;
                }
                if (nb > 2) {
                    out[o2 + c] += r2;
                }
                if (nb > 3) {
                    out[o3 + c] += r3;
                }
            }
        }
    }

    /** {@code x[off + j * stride] = r_j} for the block's heads j < nb. */
    static void store(float[] x, int off, int stride, int nb, float r0, float r1, float r2, float r3) {
        x[off] = r0;
        if (nb > 1) {
            x[off + stride] = r1;
        }
        if (nb > 2) {
            x[off + 2 * stride] = r2;
        }
        if (nb > 3) {
            x[off + 3 * stride] = r3;
        }
    }

    /** Lane group c of the block's accumulators back to {@code out}, heads j < nb only. */
    static void store(float[] out, int c, int o0, int o1, int o2, int o3, int nb,
                      FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        a0.intoArray(out, o0 + c);
        if (nb > 1) {
            a1.intoArray(out, o1 + c);
        }
        if (nb > 2) {
            a2.intoArray(out, o2 + c);
        }
        if (nb > 3) {
            a3.intoArray(out, o3 + c);
        }
    }

    /** {@code x[off, off + n) *= factor}. */
    static void scale(float[] x, int off, int n, float factor) {
        int vectorEnd = off + (n & -L);
        int i = off;
        for (; i < vectorEnd; i += L) {
            FloatVector.fromArray(F, x, i).mul(factor).intoArray(x, i);
        }
        for (; i < off + n; i++) {
            x[i] *= factor;
        }
    }
}
