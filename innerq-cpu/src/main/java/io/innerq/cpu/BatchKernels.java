package io.innerq.cpu;

import static io.innerq.cpu.VectorKernels.F;
import static io.innerq.cpu.VectorKernels.L;

import io.innerq.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * Products of one weight matrix with many inputs ({@link io.innerq.port.out.MatVecPort#matMul}), equal bit for bit to
 * {@link VectorKernels#rows} run once per input. Each row is decoded once into exact floats by the kernels' own
 * loads and unpacking ({@code VectorKernels.decode*}): the weights of a float type, or a block type's codes and the
 * scales its kernel multiplies by (an fp16 d times a 6-bit integer is exact in fp32); then each input is summed in
 * that kernel's order, reading the floats instead of the bytes.
 *
 * <p>Why bit for bit: a prompt run in batches must give the keys and values that token-by-token steps give. Caches
 * that round on store (fp16, q8_0) turn a difference in the last bit of a key into a different code once in a
 * while, a change of a whole quantization step, which no float tolerance bounds.
 */
final class BatchKernels {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BatchKernels() {
    }

    /**
     * {@code outs[i][r] = w[r] . xs[i]} for rows {@code from .. to} and inputs {@code i < n}. One method per type, so
     * that C2 compiles each on its own (a single method holding every kernel would pass its inlining budget).
     */
    static void rows(Tensor w, float[][] xs, float[][] outs, int n, int from, int to) {
        VectorKernels.Scratch scratch = VectorKernels.scratch(w.cols());
        switch (w.type()) {
            case F32, F16, BF16 -> floatRows(w, xs, outs, n, from, to, scratch);
            case Q8_0 -> q8_0Rows(w, xs, outs, n, from, to, scratch);
            case Q4_0 -> q4_0Rows(w, xs, outs, n, from, to, scratch);
            case Q4_K -> q4_KRows(w, xs, outs, n, from, to, scratch);
            case Q6_K -> q6_KRows(w, xs, outs, n, from, to, scratch);
        }
    }

    /** F32, F16, BF16: the row as floats, then {@link VectorKernels#dot}, the sums of dotF32, dotF16 and dotBF16. */
    private static void floatRows(Tensor w, float[][] xs, float[][] outs, int n, int from, int to,
                                  VectorKernels.Scratch scratch) {
        MemorySegment data = w.data();
        int cols = w.cols();
        float[] row = scratch.row(); // [cols]
        for (int r = from; r < to; r++) {
            long at = r * w.rowBytes();
            switch (w.type()) {
                case F32 -> MemorySegment.copy(data, F32, at, row, 0, cols);
                case F16 -> VectorKernels.halvesToFloats(data, at, cols, row, scratch.halves());
                default -> VectorKernels.decodeBF16(data, at, cols, row);
            }
            int i = 0;
            for (; i + 2 <= n; i += 2) {
                dot(row, xs[i], xs[i + 1], cols, outs, i, r, scratch.lanes());
            }
            for (; i < n; i++) {
                outs[i][r] = VectorKernels.dot(row, xs[i], cols, scratch.lanes());
            }
        }
    }

    /** {@link VectorKernels#dot} for two inputs at once, each row vector loaded once: {@code outs[i, i + 1][r]}. */
    private static void dot(float[] a, float[] x0, float[] x1, int n, float[][] outs, int i, int r,
                            float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int c = 0;
        for (; c + 4 * L <= n; c += 4 * L) {
            FloatVector v = FloatVector.fromArray(F, a, c);
            a0 = v.fma(FloatVector.fromArray(F, x0, c), a0);
            b0 = v.fma(FloatVector.fromArray(F, x1, c), b0);
            v = FloatVector.fromArray(F, a, c + L);
            a1 = v.fma(FloatVector.fromArray(F, x0, c + L), a1);
            b1 = v.fma(FloatVector.fromArray(F, x1, c + L), b1);
            v = FloatVector.fromArray(F, a, c + 2 * L);
            a2 = v.fma(FloatVector.fromArray(F, x0, c + 2 * L), a2);
            b2 = v.fma(FloatVector.fromArray(F, x1, c + 2 * L), b2);
            v = FloatVector.fromArray(F, a, c + 3 * L);
            a3 = v.fma(FloatVector.fromArray(F, x0, c + 3 * L), a3);
            b3 = v.fma(FloatVector.fromArray(F, x1, c + 3 * L), b3);
        }
        for (; c + L <= n; c += L) {
            FloatVector v = FloatVector.fromArray(F, a, c);
            a0 = v.fma(FloatVector.fromArray(F, x0, c), a0);
            b0 = v.fma(FloatVector.fromArray(F, x1, c), b0);
        }
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        float s0 = VectorKernels.sum(lanes);
        b0.add(b1).add(b2.add(b3)).intoArray(lanes, 0);
        float s1 = VectorKernels.sum(lanes);
        for (; c < n; c++) {
            s0 += a[c] * x0[c];
            s1 += a[c] * x1[c];
        }
        outs[i][r] = s0;
        outs[i + 1][r] = s1;
    }

    private static void q8_0Rows(Tensor w, float[][] xs, float[][] outs, int n, int from, int to,
                                 VectorKernels.Scratch scratch) {
        int cols = w.cols();
        float[] q = scratch.row();
        float[] d = scratch.scales();
        float[] lanes = scratch.lanes();
        for (int r = from; r < to; r++) {
            VectorKernels.decodeQ8_0(w.data(), r * w.rowBytes(), cols, q, d);
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                dotQ8_0(q, d, xs[i], xs[i + 1], xs[i + 2], xs[i + 3], cols, outs, i, r, lanes);
            }
            for (; i < n; i++) {
                outs[i][r] = dotQ8_0(q, d, xs[i], cols, lanes);
            }
        }
    }

    private static void q4_0Rows(Tensor w, float[][] xs, float[][] outs, int n, int from, int to,
                                 VectorKernels.Scratch scratch) {
        int cols = w.cols();
        float[] q = scratch.row();
        float[] d = scratch.scales();
        float[] lanes = scratch.lanes();
        for (int r = from; r < to; r++) {
            VectorKernels.decodeQ4_0(w.data(), r * w.rowBytes(), cols, q, d);
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                dotQ4_0(q, d, xs[i], xs[i + 1], xs[i + 2], xs[i + 3], cols, outs, i, r, lanes);
            }
            for (; i < n; i++) {
                outs[i][r] = dotQ4_0(q, d, xs[i], cols, lanes);
            }
        }
    }

    private static void q4_KRows(Tensor w, float[][] xs, float[][] outs, int n, int from, int to,
                                 VectorKernels.Scratch scratch) {
        int cols = w.cols();
        float[] q = scratch.row();
        float[] ds = scratch.scales();
        float[] ms = scratch.mins();
        float[] lanes = scratch.lanes();
        for (int r = from; r < to; r++) {
            VectorKernels.decodeQ4_K(w.data(), r * w.rowBytes(), cols, q, ds, ms);
            int i = 0;
            for (; i + 2 <= n; i += 2) {
                dotQ4_K(q, ds, ms, xs[i], xs[i + 1], cols, outs, i, r, lanes);
            }
            for (; i < n; i++) {
                outs[i][r] = dotQ4_K(q, ds, ms, xs[i], cols, lanes);
            }
        }
    }

    private static void q6_KRows(Tensor w, float[][] xs, float[][] outs, int n, int from, int to,
                                 VectorKernels.Scratch scratch) {
        int cols = w.cols();
        float[] q = scratch.row();
        float[] s = scratch.scales();
        float[] lanes = scratch.lanes();
        for (int r = from; r < to; r++) {
            VectorKernels.decodeQ6_K(w.data(), r * w.rowBytes(), cols, q, s);
            for (int i = 0; i < n; i++) {
                outs[i][r] = dotQ6_K(q, s, xs[i], cols, lanes);
            }
        }
    }

    // ---- Q8_0: codes int8 [cols], d fp16 [cols / 32] ----

    /** {@link VectorKernels#dotQ8_0}'s sums: per block, the codes' chunks in order, then one fma by d. */
    private static float dotQ8_0(float[] q, float[] d, float[] x, int cols, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            int xb = 32 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                sum = FloatVector.fromArray(F, q, xb + j).fma(FloatVector.fromArray(F, x, xb + j), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, d[b]), acc);
        }
        acc.intoArray(lanes, 0);
        return VectorKernels.sum(lanes);
    }

    /** {@link #dotQ8_0} for four inputs at once, each code vector loaded once: {@code outs[i .. i + 3][r]}. */
    private static void dotQ8_0(float[] q, float[] d, float[] x0, float[] x1, float[] x2, float[] x3, int cols,
                                float[][] outs, int i, int r, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int b = 0; b < cols / 32; b++) {
            int xb = 32 * b;
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            for (int j = 0; j < 32; j += L) {
                FloatVector c = FloatVector.fromArray(F, q, xb + j);
                s0 = c.fma(FloatVector.fromArray(F, x0, xb + j), s0);
                s1 = c.fma(FloatVector.fromArray(F, x1, xb + j), s1);
                s2 = c.fma(FloatVector.fromArray(F, x2, xb + j), s2);
                s3 = c.fma(FloatVector.fromArray(F, x3, xb + j), s3);
            }
            FloatVector db = FloatVector.broadcast(F, d[b]);
            a0 = s0.fma(db, a0);
            a1 = s1.fma(db, a1);
            a2 = s2.fma(db, a2);
            a3 = s3.fma(db, a3);
        }
        a0.intoArray(lanes, 0);
        outs[i][r] = VectorKernels.sum(lanes);
        a1.intoArray(lanes, 0);
        outs[i + 1][r] = VectorKernels.sum(lanes);
        a2.intoArray(lanes, 0);
        outs[i + 2][r] = VectorKernels.sum(lanes);
        a3.intoArray(lanes, 0);
        outs[i + 3][r] = VectorKernels.sum(lanes);
    }

    // ---- Q4_0: codes (nibble - 8) [cols], in element order; d fp16 [cols / 32] ----

    /** {@link VectorKernels#dotQ4_0}'s sums: per block, L low codes then L high codes, then one fma by d. */
    private static float dotQ4_0(float[] q, float[] d, float[] x, int cols, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            int xb = 32 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                sum = FloatVector.fromArray(F, q, xb + j).fma(FloatVector.fromArray(F, x, xb + j), sum);
                sum = FloatVector.fromArray(F, q, xb + 16 + j).fma(FloatVector.fromArray(F, x, xb + 16 + j), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, d[b]), acc);
        }
        acc.intoArray(lanes, 0);
        return VectorKernels.sum(lanes);
    }

    /** {@link #dotQ4_0} for four inputs at once, each code vector loaded once: {@code outs[i .. i + 3][r]}. */
    private static void dotQ4_0(float[] q, float[] d, float[] x0, float[] x1, float[] x2, float[] x3, int cols,
                                float[][] outs, int i, int r, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int b = 0; b < cols / 32; b++) {
            int xb = 32 * b;
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            for (int j = 0; j < 16; j += L) {
                int lo = xb + j;
                int hi = lo + 16;
                FloatVector c = FloatVector.fromArray(F, q, lo);
                s0 = c.fma(FloatVector.fromArray(F, x0, lo), s0);
                s1 = c.fma(FloatVector.fromArray(F, x1, lo), s1);
                s2 = c.fma(FloatVector.fromArray(F, x2, lo), s2);
                s3 = c.fma(FloatVector.fromArray(F, x3, lo), s3);
                c = FloatVector.fromArray(F, q, hi);
                s0 = c.fma(FloatVector.fromArray(F, x0, hi), s0);
                s1 = c.fma(FloatVector.fromArray(F, x1, hi), s1);
                s2 = c.fma(FloatVector.fromArray(F, x2, hi), s2);
                s3 = c.fma(FloatVector.fromArray(F, x3, hi), s3);
            }
            FloatVector db = FloatVector.broadcast(F, d[b]);
            a0 = s0.fma(db, a0);
            a1 = s1.fma(db, a1);
            a2 = s2.fma(db, a2);
            a3 = s3.fma(db, a3);
        }
        a0.intoArray(lanes, 0);
        outs[i][r] = VectorKernels.sum(lanes);
        a1.intoArray(lanes, 0);
        outs[i + 1][r] = VectorKernels.sum(lanes);
        a2.intoArray(lanes, 0);
        outs[i + 2][r] = VectorKernels.sum(lanes);
        a3.intoArray(lanes, 0);
        outs[i + 3][r] = VectorKernels.sum(lanes);
    }

    // ---- Q4_K: codes (nibbles) [cols]; d * scale and dmin * min per sub-block of 32 [cols / 32] ----

    /** {@link VectorKernels#dotQ4_K}'s sums: code and input sums per sub-block, scaled by fmas, mins apart. */
    private static float dotQ4_K(float[] q, float[] ds, float[] ms, float[] x, int cols, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        FloatVector mins = FloatVector.zero(F);
        for (int b = 0; b < cols / 256; b++) {
            for (int chunk = 0; chunk < 4; chunk++) {
                int x0 = 256 * b + 64 * chunk;
                FloatVector qxLo = FloatVector.zero(F);
                FloatVector qxHi = qxLo;
                FloatVector xLo = qxLo;
                FloatVector xHi = qxLo;
                for (int l = 0; l < 32; l += L) {
                    FloatVector lo = FloatVector.fromArray(F, x, x0 + l);
                    FloatVector hi = FloatVector.fromArray(F, x, x0 + 32 + l);
                    qxLo = FloatVector.fromArray(F, q, x0 + l).fma(lo, qxLo);
                    qxHi = FloatVector.fromArray(F, q, x0 + 32 + l).fma(hi, qxHi);
                    xLo = xLo.add(lo);
                    xHi = xHi.add(hi);
                }
                int j = 8 * b + 2 * chunk;
                acc = qxLo.fma(FloatVector.broadcast(F, ds[j]), acc);
                acc = qxHi.fma(FloatVector.broadcast(F, ds[j + 1]), acc);
                mins = xLo.fma(FloatVector.broadcast(F, ms[j]), mins);
                mins = xHi.fma(FloatVector.broadcast(F, ms[j + 1]), mins);
            }
        }
        acc.sub(mins).intoArray(lanes, 0);
        return VectorKernels.sum(lanes);
    }

    /** {@link #dotQ4_K} for two inputs at once, each code vector loaded once: {@code outs[i, i + 1][r]}. */
    private static void dotQ4_K(float[] q, float[] ds, float[] ms, float[] x0, float[] x1, int cols,
                                float[][] outs, int i, int r, float[] lanes) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector mins0 = acc0;
        FloatVector mins1 = acc0;
        for (int b = 0; b < cols / 256; b++) {
            for (int chunk = 0; chunk < 4; chunk++) {
                int c0 = 256 * b + 64 * chunk;
                FloatVector qxLo0 = FloatVector.zero(F);
                FloatVector qxHi0 = qxLo0;
                FloatVector xLo0 = qxLo0;
                FloatVector xHi0 = qxLo0;
                FloatVector qxLo1 = qxLo0;
                FloatVector qxHi1 = qxLo0;
                FloatVector xLo1 = qxLo0;
                FloatVector xHi1 = qxLo0;
                for (int l = 0; l < 32; l += L) {
                    int lo = c0 + l;
                    int hi = lo + 32;
                    FloatVector qLo = FloatVector.fromArray(F, q, lo);
                    FloatVector qHi = FloatVector.fromArray(F, q, hi);
                    FloatVector v = FloatVector.fromArray(F, x0, lo);
                    qxLo0 = qLo.fma(v, qxLo0);
                    xLo0 = xLo0.add(v);
                    v = FloatVector.fromArray(F, x0, hi);
                    qxHi0 = qHi.fma(v, qxHi0);
                    xHi0 = xHi0.add(v);
                    v = FloatVector.fromArray(F, x1, lo);
                    qxLo1 = qLo.fma(v, qxLo1);
                    xLo1 = xLo1.add(v);
                    v = FloatVector.fromArray(F, x1, hi);
                    qxHi1 = qHi.fma(v, qxHi1);
                    xHi1 = xHi1.add(v);
                }
                int j = 8 * b + 2 * chunk;
                FloatVector dLo = FloatVector.broadcast(F, ds[j]);
                FloatVector dHi = FloatVector.broadcast(F, ds[j + 1]);
                FloatVector mLo = FloatVector.broadcast(F, ms[j]);
                FloatVector mHi = FloatVector.broadcast(F, ms[j + 1]);
                acc0 = qxHi0.fma(dHi, qxLo0.fma(dLo, acc0));
                acc1 = qxHi1.fma(dHi, qxLo1.fma(dLo, acc1));
                mins0 = xHi0.fma(mHi, xLo0.fma(mLo, mins0));
                mins1 = xHi1.fma(mHi, xLo1.fma(mLo, mins1));
            }
        }
        acc0.sub(mins0).intoArray(lanes, 0);
        outs[i][r] = VectorKernels.sum(lanes);
        acc1.sub(mins1).intoArray(lanes, 0);
        outs[i + 1][r] = VectorKernels.sum(lanes);
    }

    // ---- Q6_K: codes (6-bit - 32) [cols], in element order; d * scale per 16 elements [cols / 16] ----

    /**
     * {@link VectorKernels#dotQ6_K}'s sums: four accumulators (one per 32-element quarter of a half), each step
     * {@code acc + (codes * x) * scale}. Scale {@code 16b + 8 half + 2k + l / 16} is element {@code l + 32k}'s.
     */
    private static float dotQ6_K(float[] q, float[] s, float[] x, int cols, float[] lanes) {
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = acc1;
        FloatVector acc3 = acc1;
        FloatVector acc4 = acc1;
        for (int b = 0; b < cols / 256; b++) {
            for (int half = 0; half < 2; half++) {
                int x0 = 256 * b + 128 * half;
                int si = 16 * b + 8 * half;
                for (int l = 0; l < 32; l += L) {
                    int xl = x0 + l;
                    int sl = si + l / 16;
                    acc1 = FloatVector.fromArray(F, q, xl).mul(FloatVector.fromArray(F, x, xl))
                            .fma(FloatVector.broadcast(F, s[sl]), acc1);
                    acc2 = FloatVector.fromArray(F, q, xl + 32).mul(FloatVector.fromArray(F, x, xl + 32))
                            .fma(FloatVector.broadcast(F, s[sl + 2]), acc2);
                    acc3 = FloatVector.fromArray(F, q, xl + 64).mul(FloatVector.fromArray(F, x, xl + 64))
                            .fma(FloatVector.broadcast(F, s[sl + 4]), acc3);
                    acc4 = FloatVector.fromArray(F, q, xl + 96).mul(FloatVector.fromArray(F, x, xl + 96))
                            .fma(FloatVector.broadcast(F, s[sl + 6]), acc4);
                }
            }
        }
        acc1.add(acc2).add(acc3.add(acc4)).intoArray(lanes, 0);
        return VectorKernels.sum(lanes);
    }
}
