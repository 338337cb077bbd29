package io.innerq.cpu;

import jdk.incubator.vector.FloatVector;

import static io.innerq.cpu.Lanes.F;
import static io.innerq.cpu.Lanes.L;

/**
 * Attention kernels over fp32 rows (the fp32 cache, prompts, sinks and windows, tiles converted from fp16 or q8_0),
 * for a block of up to {@link #BLOCK} query heads that share a KV head: every row is loaded once for the whole block.
 *
 * <p>Addressing: row i of a token range is {@code x[base + i * stride, + hd)}; the block's query head j (j < nb) reads
 * {@code q[qo + j * qStride, + hd)}, writes scores {@code s[so + j * sStride + i]}, reads probabilities
 * {@code p[po + j * pStride + i]} and accumulates {@code out[oo + j * oStride, + hd)}.
 *
 * <p>A block of fewer than {@link #BLOCK} heads repeats its last head in the spare registers ({@link #row}): a
 * repeated head reads the same inputs, computes the same values and writes them to the same place, so every kernel
 * may store all four results unconditionally, provided it computes all of them before storing any.
 *
 * <p>Kernels keep their hot loops free of calls that C2 might leave out of line: a Vector API call that is not
 * inlined boxes its vectors, and any call spills the vector registers.
 */
final class DenseKernels {

    /** Query heads per block: four accumulators per lane group stay in registers. */
    static final int BLOCK = 4;
    /** Tokens per tile of the value kernel: its rows stay in L1 while the channel pairs sweep them. */
    private static final int TILE = 64;

    private DenseKernels() {
    }

    /** Offset of the block's head j: {@code base + min(j, nb - 1) * stride} (repeats the last head past nb). */
    static int row(int base, int stride, int j, int nb) {
        return base + Math.min(j, nb - 1) * stride;
    }

    /** {@code s_j[i] = scale * q_j . k_i} for rows {@code i in [0, tokens)}. */
    static void scores(float[] k, int kBase, int kStride, int tokens, int hd,
                       float[] q, int qo, int qStride, float[] s, int so, int sStride, int nb, float scale) {
        int q0 = qo;
        int q1 = row(qo, qStride, 1, nb);
        int q2 = row(qo, qStride, 2, nb);
        int q3 = row(qo, qStride, 3, nb);
        int s1 = row(so, sStride, 1, nb);
        int s2 = row(so, sStride, 2, nb);
        int s3 = row(so, sStride, 3, nb);
        int vectorEnd = hd & -L;
        int i = 0;
        for (; i + 1 < tokens; i += 2) { // two rows at a time: eight independent accumulators, q loaded once
            int ko = kBase + i * kStride;
            int ko2 = ko + kStride;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            FloatVector b0 = FloatVector.zero(F);
            FloatVector b1 = FloatVector.zero(F);
            FloatVector b2 = FloatVector.zero(F);
            FloatVector b3 = FloatVector.zero(F);
            for (int c = 0; c < vectorEnd; c += L) {
                FloatVector x = FloatVector.fromArray(F, k, ko + c);
                FloatVector y = FloatVector.fromArray(F, k, ko2 + c);
                FloatVector w = FloatVector.fromArray(F, q, q0 + c);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.fromArray(F, q, q1 + c);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.fromArray(F, q, q2 + c);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.fromArray(F, q, q3 + c);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
            }
            // Lanes.sums(a0, a1, a2, a3), written out: a call that C2 leaves out of line boxes its vectors
            FloatVector raH = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector raK = a2.blend(a3, Lanes.HIGH).add(a3.blend(a2, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector raQ = raH.blend(raK, Lanes.ODD_PAIRS)
                    .add(raK.blend(raH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
            FloatVector ra = raQ.add(raQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
            // Lanes.sums(b0, b1, b2, b3), written out: a call that C2 leaves out of line boxes its vectors
            FloatVector ubH = b0.blend(b1, Lanes.HIGH).add(b1.blend(b0, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector ubK = b2.blend(b3, Lanes.HIGH).add(b3.blend(b2, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector ubQ = ubH.blend(ubK, Lanes.ODD_PAIRS)
                    .add(ubK.blend(ubH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
            FloatVector ub = ubQ.add(ubQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
            float r0 = ra.lane(0);
            float r1 = ra.lane(4);
            float r2 = ra.lane(2);
            float r3 = ra.lane(6);
            float u0 = ub.lane(0);
            float u1 = ub.lane(4);
            float u2 = ub.lane(2);
            float u3 = ub.lane(6);
            for (int c = vectorEnd; c < hd; c++) {
                float x = k[ko + c];
                float y = k[ko2 + c];
                r0 += x * q[q0 + c];
                r1 += x * q[q1 + c];
                r2 += x * q[q2 + c];
                r3 += x * q[q3 + c];
                u0 += y * q[q0 + c];
                u1 += y * q[q1 + c];
                u2 += y * q[q2 + c];
                u3 += y * q[q3 + c];
            }
            s[so + i] = r0 * scale;
            s[s1 + i] = r1 * scale;
            s[s2 + i] = r2 * scale;
            s[s3 + i] = r3 * scale;
            s[so + i + 1] = u0 * scale;
            s[s1 + i + 1] = u1 * scale;
            s[s2 + i + 1] = u2 * scale;
            s[s3 + i + 1] = u3 * scale;
        }
        if (i < tokens) {
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
            // Lanes.sums(a0, a1, a2, a3), written out: a call that C2 leaves out of line boxes its vectors
            FloatVector raH = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector raK = a2.blend(a3, Lanes.HIGH).add(a3.blend(a2, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector raQ = raH.blend(raK, Lanes.ODD_PAIRS)
                    .add(raK.blend(raH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
            FloatVector ra = raQ.add(raQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
            float r0 = ra.lane(0);
            float r1 = ra.lane(4);
            float r2 = ra.lane(2);
            float r3 = ra.lane(6);
            for (int c = vectorEnd; c < hd; c++) {
                float x = k[ko + c];
                r0 += x * q[q0 + c];
                r1 += x * q[q1 + c];
                r2 += x * q[q2 + c];
                r3 += x * q[q3 + c];
            }
            s[so + i] = r0 * scale;
            s[s1 + i] = r1 * scale;
            s[s2 + i] = r2 * scale;
            s[s3 + i] = r3 * scale;
        }
    }

    /** {@code out_j += sum_i p_j[i] * v_i} over rows {@code i in [0, tokens)}. */
    static void values(float[] v, int vBase, int vStride, int tokens, int hd,
                       float[] p, int po, int pStride, float[] out, int oo, int oStride, int nb) {
        int p0 = po;
        int p1 = row(po, pStride, 1, nb);
        int p2 = row(po, pStride, 2, nb);
        int p3 = row(po, pStride, 3, nb);
        int o0 = oo;
        int o1 = row(oo, oStride, 1, nb);
        int o2 = row(oo, oStride, 2, nb);
        int o3 = row(oo, oStride, 3, nb);
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
                a0.intoArray(out, o0 + c);
                a1.intoArray(out, o1 + c);
                a2.intoArray(out, o2 + c);
                a3.intoArray(out, o3 + c);
                b0.intoArray(out, o0 + c + L);
                b1.intoArray(out, o1 + c + L);
                b2.intoArray(out, o2 + c + L);
                b3.intoArray(out, o3 + c + L);
            }
            if (c + L <= hd) { // one lane group left (head_dim = 8 mod 16)
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
                a0.intoArray(out, o0 + c);
                a1.intoArray(out, o1 + c);
                a2.intoArray(out, o2 + c);
                a3.intoArray(out, o3 + c);
                c += L;
            }
            for (; c < hd; c++) { // channels past the last lane group (head_dim % 8)
                float r0 = out[o0 + c];
                float r1 = out[o1 + c];
                float r2 = out[o2 + c];
                float r3 = out[o3 + c];
                for (int i = t0; i < t1; i++) {
                    float x = v[vBase + i * vStride + c];
                    r0 += p[p0 + i] * x;
                    r1 += p[p1 + i] * x;
                    r2 += p[p2 + i] * x;
                    r3 += p[p3 + i] * x;
                }
                out[o0 + c] = r0;
                out[o1 + c] = r1;
                out[o2 + c] = r2;
                out[o3 + c] = r3;
            }
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
