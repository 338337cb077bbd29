package io.innerq.cpu;

import static io.innerq.cpu.VectorKernels.F;
import static io.innerq.cpu.VectorKernels.L;

import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

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

    /**
     * F32, F16, BF16: the rows as floats, then {@link VectorKernels#dot}'s sums (those of dotF32, dotF16 and dotBF16).
     * Rows go four at a time against four inputs at a time ({@link #dot4x4}); the rest of the rows and inputs take
     * the one-row paths.
     */
    private static void floatRows(Tensor w, float[][] xs, float[][] outs, int n, int from, int to,
                                  VectorKernels.Scratch scratch) {
        int cols = w.cols();
        float[] lanes = scratch.lanes();
        if (n <= FEW_INPUTS && w.type() == GgmlType.F16 && Halves.allFinite(w)) {
            f16FewInputs(w, xs, outs, n, from, to, lanes);
            return;
        }
        int r = from;
        if (n >= 4) {
            Block block = block(cols);
            for (; r + 4 <= to; r += 4) {
                for (int k = 0; k < 4; k++) {
                    floatRow(w, r + k, block.rows[k], scratch);
                }
                int i = 0;
                for (; i + 4 <= n; i += 4) {
                    dot4x4(block, xs, i, cols, outs, r);
                }
                for (; i < n; i++) {
                    for (int k = 0; k < 4; k++) {
                        outs[i][r + k] = VectorKernels.dot(block.rows[k], xs[i], cols, lanes);
                    }
                }
            }
        }
        float[] row = scratch.row(); // [cols]
        for (; r < to; r++) {
            floatRow(w, r, row, scratch);
            int i = 0;
            for (; i + 2 <= n; i += 2) {
                dot(row, xs[i], xs[i + 1], cols, outs, i, r, lanes);
            }
            for (; i < n; i++) {
                outs[i][r] = VectorKernels.dot(row, xs[i], cols, lanes);
            }
        }
    }

    /**
     * Up to this many inputs, F16 rows are multiplied where they are read ({@link VectorKernels#dotF16x4}, the last
     * group padded) instead of converted to floats first: on one thread over an 8192 x 2048 matrix, two and three
     * inputs took 0.76x and 0.68x the time of the decoded rows' path; four took the same, eight 1.17x.
     */
    static final int FEW_INPUTS = 3;

    /** F16 rows (finite) with {@code n <= FEW_INPUTS} inputs: four at a time, the last group padded with its last. */
    private static void f16FewInputs(Tensor w, float[][] xs, float[][] outs, int n, int from, int to,
                                     float[] lanes) {
        int cols = w.cols();
        int last = n - 1;
        for (int r = from; r < to; r++) {
            long at = r * w.rowBytes();
            for (int i = 0; i < n; i += 4) {
                VectorKernels.dotF16x4(w.data(), at, xs[i], xs[Math.min(i + 1, last)], xs[Math.min(i + 2, last)],
                        xs[Math.min(i + 3, last)], cols, lanes, outs, i, r, Math.min(4, n - i));
            }
        }
    }

    /** Row {@code r} of a float type as floats, into {@code row[0, cols)}. */
    private static void floatRow(Tensor w, int r, float[] row, VectorKernels.Scratch scratch) {
        long at = r * w.rowBytes();
        int cols = w.cols();
        switch (w.type()) {
            case F32 -> MemorySegment.copy(w.data(), F32, at, row, 0, cols);
            case F16 -> {
                if (Halves.allFinite(w)) {
                    VectorKernels.decodeF16(w.data(), at, cols, row);
                } else {
                    VectorKernels.halvesToFloats(w.data(), at, cols, row, scratch.halves());
                }
            }
            default -> VectorKernels.decodeBF16(w.data(), at, cols, row);
        }
    }

    /**
     * A thread's scratch for {@link #dot4x4}: four decoded rows {@code [4][cols]}, the two accumulators of each of the
     * 16 dot products {@code partials [row * 4 + input][accumulator][L]}, and their sums' tree {@code [16][L]}.
     */
    private record Block(float[][] rows, float[] partials, float[] tree) {
    }

    /**
     * The longest rows whose tile (four rows and four inputs, in floats) fits a 32 KiB L1 data cache: on 1,376-float
     * rows one pass per input pair ran ~1/5 faster than a pass per accumulator, on 512-float rows ~1/7 slower.
     */
    private static final int L1_COLUMNS = 1024;

    private static final ThreadLocal<Block> BLOCK = ThreadLocal.withInitial(() -> new Block(new float[4][0],
            new float[16 * 2 * L], new float[16 * L]));

    /** This thread's block for rows of {@code cols}; allocates only when a wider row first appears. */
    private static Block block(int cols) {
        Block b = BLOCK.get();
        if (b.rows[0].length < cols) {
            b = new Block(new float[4][cols], b.partials, b.tree);
            BLOCK.set(b);
        }
        return b;
    }

    /**
     * {@link VectorKernels#dot} of four rows with four inputs, {@code outs[i .. i + 3][r .. r + 3]}, in the same sums.
     * A dot product keeps two accumulators, accumulator j taking vectors {@code j, j + 2, j + 4, ..} of the main loop
     * (accumulator 0 then the odd vector past it), each in order. Short rows run one pass per accumulator for all 16
     * products, so that a loaded row vector serves four inputs and a loaded input vector four rows, with 16
     * accumulators live instead of 32; the second pass finds the inputs in L1. Longer rows, whose four inputs and four
     * rows pass L1, run the inputs two at a time in one pass ({@link #pair}), reading each input once. The
     * accumulators are then added as dot adds them, and their lanes summed.
     */
    private static void dot4x4(Block block, float[][] xs, int i, int cols, float[][] outs, int r) {
        float[][] rows = block.rows;
        float[] partials = block.partials;
        float[] x0 = xs[i];
        float[] x1 = xs[i + 1];
        float[] x2 = xs[i + 2];
        float[] x3 = xs[i + 3];
        int full = cols / (2 * L) * (2 * L); // end of dot's main loop
        int vectors = cols / L * L;          // past its odd vector
        if (cols > L1_COLUMNS) {
            pair(rows[0], rows[1], rows[2], rows[3], x0, x1, cols, partials, 0);
            pair(rows[0], rows[1], rows[2], rows[3], x2, x3, cols, partials, 2);
        } else {
            for (int j = 0; j < 2; j++) {
                pass(rows[0], rows[1], rows[2], rows[3], x0, x1, x2, x3, j * L, full, partials, j, false);
            }
            if (full < vectors) { // dot's odd vector, on accumulator 0: a pass of one vector
                pass(rows[0], rows[1], rows[2], rows[3], x0, x1, x2, x3, full, full + 1, partials, 0, true);
            }
        }
        sums(partials, block.tree);
        for (int k = 0; k < 4; k++) {
            for (int m = 0; m < 4; m++) {
                int pair = 4 * k + m;
                float sum = block.tree[pair / L * L * L + LANE_OF[pair % L]];
                for (int c = vectors; c < cols; c++) { // dot's scalar tail
                    sum += rows[k][c] * xs[i + m][c];
                }
                outs[i + m][r + k] = sum;
            }
        }
    }

    /**
     * dot's two accumulators for four rows and two inputs in one pass over the columns, into
     * {@code partials [4k + m + j][accumulator][L]} for row k and input {@code m + j}: accumulator 0 takes vectors
     * {@code 0, 2, 4, ..} of the main loop and then the odd vector past it, accumulator 1 vectors {@code 1, 3, ..}.
     */
    private static void pair(float[] r0, float[] r1, float[] r2, float[] r3, float[] x0, float[] x1, int cols,
                             float[] partials, int m) {
        FloatVector zero = FloatVector.zero(F);
        FloatVector a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
        FloatVector b00 = zero, b01 = zero, b10 = zero, b11 = zero, b20 = zero, b21 = zero, b30 = zero, b31 = zero;
        int full = cols / (2 * L) * (2 * L); // end of dot's main loop
        for (int c = 0; c < full; c += 2 * L) {
            FloatVector v0 = FloatVector.fromArray(F, x0, c);
            FloatVector v1 = FloatVector.fromArray(F, x1, c);
            FloatVector w = FloatVector.fromArray(F, r0, c);
            a00 = w.fma(v0, a00);
            a01 = w.fma(v1, a01);
            w = FloatVector.fromArray(F, r1, c);
            a10 = w.fma(v0, a10);
            a11 = w.fma(v1, a11);
            w = FloatVector.fromArray(F, r2, c);
            a20 = w.fma(v0, a20);
            a21 = w.fma(v1, a21);
            w = FloatVector.fromArray(F, r3, c);
            a30 = w.fma(v0, a30);
            a31 = w.fma(v1, a31);
            v0 = FloatVector.fromArray(F, x0, c + L);
            v1 = FloatVector.fromArray(F, x1, c + L);
            w = FloatVector.fromArray(F, r0, c + L);
            b00 = w.fma(v0, b00);
            b01 = w.fma(v1, b01);
            w = FloatVector.fromArray(F, r1, c + L);
            b10 = w.fma(v0, b10);
            b11 = w.fma(v1, b11);
            w = FloatVector.fromArray(F, r2, c + L);
            b20 = w.fma(v0, b20);
            b21 = w.fma(v1, b21);
            w = FloatVector.fromArray(F, r3, c + L);
            b30 = w.fma(v0, b30);
            b31 = w.fma(v1, b31);
        }
        if (full + L <= cols) { // dot's odd vector, on accumulator 0
            FloatVector v0 = FloatVector.fromArray(F, x0, full);
            FloatVector v1 = FloatVector.fromArray(F, x1, full);
            FloatVector w = FloatVector.fromArray(F, r0, full);
            a00 = w.fma(v0, a00);
            a01 = w.fma(v1, a01);
            w = FloatVector.fromArray(F, r1, full);
            a10 = w.fma(v0, a10);
            a11 = w.fma(v1, a11);
            w = FloatVector.fromArray(F, r2, full);
            a20 = w.fma(v0, a20);
            a21 = w.fma(v1, a21);
            w = FloatVector.fromArray(F, r3, full);
            a30 = w.fma(v0, a30);
            a31 = w.fma(v1, a31);
        }
        store(a00, b00, partials, m);
        store(a01, b01, partials, m + 1);
        store(a10, b10, partials, 4 + m);
        store(a11, b11, partials, 4 + m + 1);
        store(a20, b20, partials, 8 + m);
        store(a21, b21, partials, 8 + m + 1);
        store(a30, b30, partials, 12 + m);
        store(a31, b31, partials, 12 + m + 1);
    }

    /** A product's two accumulators into {@code partials [product][0 | 1][L]}. */
    private static void store(FloatVector acc0, FloatVector acc1, float[] partials, int product) {
        acc0.intoArray(partials, product * 2 * L);
        acc1.intoArray(partials, product * 2 * L + L);
    }

    /**
     * Accumulator {@code into} of the 16 products (row k, input m): vectors at {@code from, from + 2L, .. < to},
     * fused into zero or, with {@code resume}, into what {@code partials} holds; written back to {@code partials}.
     */
    private static void pass(float[] r0, float[] r1, float[] r2, float[] r3, float[] x0, float[] x1, float[] x2,
                             float[] x3, int from, int to, float[] partials, int into, boolean resume) {
        FloatVector zero = FloatVector.zero(F);
        FloatVector a00 = resume ? FloatVector.fromArray(F, partials, (0 * 2 + into) * L) : zero;
        FloatVector a01 = resume ? FloatVector.fromArray(F, partials, (1 * 2 + into) * L) : zero;
        FloatVector a02 = resume ? FloatVector.fromArray(F, partials, (2 * 2 + into) * L) : zero;
        FloatVector a03 = resume ? FloatVector.fromArray(F, partials, (3 * 2 + into) * L) : zero;
        FloatVector a10 = resume ? FloatVector.fromArray(F, partials, (4 * 2 + into) * L) : zero;
        FloatVector a11 = resume ? FloatVector.fromArray(F, partials, (5 * 2 + into) * L) : zero;
        FloatVector a12 = resume ? FloatVector.fromArray(F, partials, (6 * 2 + into) * L) : zero;
        FloatVector a13 = resume ? FloatVector.fromArray(F, partials, (7 * 2 + into) * L) : zero;
        FloatVector a20 = resume ? FloatVector.fromArray(F, partials, (8 * 2 + into) * L) : zero;
        FloatVector a21 = resume ? FloatVector.fromArray(F, partials, (9 * 2 + into) * L) : zero;
        FloatVector a22 = resume ? FloatVector.fromArray(F, partials, (10 * 2 + into) * L) : zero;
        FloatVector a23 = resume ? FloatVector.fromArray(F, partials, (11 * 2 + into) * L) : zero;
        FloatVector a30 = resume ? FloatVector.fromArray(F, partials, (12 * 2 + into) * L) : zero;
        FloatVector a31 = resume ? FloatVector.fromArray(F, partials, (13 * 2 + into) * L) : zero;
        FloatVector a32 = resume ? FloatVector.fromArray(F, partials, (14 * 2 + into) * L) : zero;
        FloatVector a33 = resume ? FloatVector.fromArray(F, partials, (15 * 2 + into) * L) : zero;
        for (int c = from; c < to; c += 2 * L) { // a constant stride: C2 then drops the loads' range checks
            FloatVector w0 = FloatVector.fromArray(F, r0, c);
            FloatVector w1 = FloatVector.fromArray(F, r1, c);
            FloatVector w2 = FloatVector.fromArray(F, r2, c);
            FloatVector w3 = FloatVector.fromArray(F, r3, c);
            FloatVector v0 = FloatVector.fromArray(F, x0, c);
            a00 = w0.fma(v0, a00);
            a10 = w1.fma(v0, a10);
            a20 = w2.fma(v0, a20);
            a30 = w3.fma(v0, a30);
            FloatVector v1 = FloatVector.fromArray(F, x1, c);
            a01 = w0.fma(v1, a01);
            a11 = w1.fma(v1, a11);
            a21 = w2.fma(v1, a21);
            a31 = w3.fma(v1, a31);
            FloatVector v2 = FloatVector.fromArray(F, x2, c);
            a02 = w0.fma(v2, a02);
            a12 = w1.fma(v2, a12);
            a22 = w2.fma(v2, a22);
            a32 = w3.fma(v2, a32);
            FloatVector v3 = FloatVector.fromArray(F, x3, c);
            a03 = w0.fma(v3, a03);
            a13 = w1.fma(v3, a13);
            a23 = w2.fma(v3, a23);
            a33 = w3.fma(v3, a33);
        }
        a00.intoArray(partials, (0 * 2 + into) * L);
        a01.intoArray(partials, (1 * 2 + into) * L);
        a02.intoArray(partials, (2 * 2 + into) * L);
        a03.intoArray(partials, (3 * 2 + into) * L);
        a10.intoArray(partials, (4 * 2 + into) * L);
        a11.intoArray(partials, (5 * 2 + into) * L);
        a12.intoArray(partials, (6 * 2 + into) * L);
        a13.intoArray(partials, (7 * 2 + into) * L);
        a20.intoArray(partials, (8 * 2 + into) * L);
        a21.intoArray(partials, (9 * 2 + into) * L);
        a22.intoArray(partials, (10 * 2 + into) * L);
        a23.intoArray(partials, (11 * 2 + into) * L);
        a30.intoArray(partials, (12 * 2 + into) * L);
        a31.intoArray(partials, (13 * 2 + into) * L);
        a32.intoArray(partials, (14 * 2 + into) * L);
        a33.intoArray(partials, (15 * 2 + into) * L);
    }

    /**
     * dot's ending for the 16 products, their lanes summed L products at a time: each product's accumulators added as
     * dot adds them ({@code a0 + a1}), then {@link VectorKernels#sum}'s tree for all of them together.
     * The tree adds lanes {@code i} and {@code i + h} for h = L/2, .., 1; here a level adds each vector to itself with
     * its lanes swapped by h, and two vectors so added become one (lanes with bit h from the second), halving their
     * number until one holds L sums. Product {@code p} of a group ends in lane {@link #LANE_OF}{@code [p]}: its index
     * with the bits reversed. The same additions in the same order: floats add commutatively, bit for bit.
     *
     * @param tree {@code [16 / L][L][L]}: per group of L products, their vectors; the sums in each group's first
     */
    private static void sums(float[] partials, float[] tree) {
        for (int p = 0; p < 16; p++) {
            int at = p * 2 * L;
            FloatVector.fromArray(F, partials, at).add(FloatVector.fromArray(F, partials, at + L)).intoArray(tree, p * L);
        }
        for (int group = 0; group < 16 / L; group++) {
            int base = group * L * L;
            for (int vectors = L, h = L / 2; h >= 1; vectors /= 2, h /= 2) {
                halve(tree, base, vectors, h);
            }
        }
    }

    /** One level of {@link #sums}' tree: {@code vectors} vectors at {@code base} become half as many. */
    private static void halve(float[] tree, int base, int vectors, int h) {
        for (int q = 0; q < vectors / 2; q++) {
            FloatVector x = FloatVector.fromArray(F, tree, base + 2 * q * L);
            FloatVector y = FloatVector.fromArray(F, tree, base + (2 * q + 1) * L);
            FloatVector z = switch (h) {
                case 8 -> x.add(x.rearrange(SWAP_8)).blend(y.add(y.rearrange(SWAP_8)), HIGH_8);
                case 4 -> x.add(x.rearrange(SWAP_4)).blend(y.add(y.rearrange(SWAP_4)), HIGH_4);
                case 2 -> x.add(x.rearrange(SWAP_2)).blend(y.add(y.rearrange(SWAP_2)), HIGH_2);
                default -> x.add(x.rearrange(SWAP_1)).blend(y.add(y.rearrange(SWAP_1)), HIGH_1);
            };
            z.intoArray(tree, base + q * L);
        }
    }

    /** Lane i to lane i ^ h, for h < L (null otherwise: that level does not exist). */
    private static VectorShuffle<Float> swap(int h) {
        return h < L ? VectorShuffle.fromOp(F, i -> i ^ h) : null;
    }

    /** The lanes with bit h set, for h < L. */
    private static VectorMask<Float> high(int h) {
        if (h >= L) {
            return null;
        }
        long bits = 0;
        for (int i = 0; i < L; i++) {
            if ((i & h) != 0) {
                bits |= 1L << i;
            }
        }
        return VectorMask.fromLong(F, bits);
    }

    private static final VectorShuffle<Float> SWAP_8 = swap(8);
    private static final VectorShuffle<Float> SWAP_4 = swap(4);
    private static final VectorShuffle<Float> SWAP_2 = swap(2);
    private static final VectorShuffle<Float> SWAP_1 = swap(1);
    private static final VectorMask<Float> HIGH_8 = high(8);
    private static final VectorMask<Float> HIGH_4 = high(4);
    private static final VectorMask<Float> HIGH_2 = high(2);
    private static final VectorMask<Float> HIGH_1 = high(1);

    /** The lane where product {@code p} of a group ends: p with its log2(L) bits reversed. */
    private static final int[] LANE_OF = laneOf();

    private static int[] laneOf() {
        int[] lane = new int[L];
        for (int p = 0; p < L; p++) {
            for (int bit = 1, to = L / 2; bit < L; bit <<= 1, to >>= 1) {
                if ((p & bit) != 0) {
                    lane[p] += to;
                }
            }
        }
        return lane;
    }

    /** {@link VectorKernels#dot} for two inputs at once, each row vector loaded once: {@code outs[i, i + 1][r]}. */
    private static void dot(float[] a, float[] x0, float[] x1, int n, float[][] outs, int i, int r,
                            float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        int c = 0;
        for (; c + 2 * L <= n; c += 2 * L) {
            FloatVector v = FloatVector.fromArray(F, a, c);
            a0 = v.fma(FloatVector.fromArray(F, x0, c), a0);
            b0 = v.fma(FloatVector.fromArray(F, x1, c), b0);
            v = FloatVector.fromArray(F, a, c + L);
            a1 = v.fma(FloatVector.fromArray(F, x0, c + L), a1);
            b1 = v.fma(FloatVector.fromArray(F, x1, c + L), b1);
        }
        if (c + L <= n) {
            FloatVector v = FloatVector.fromArray(F, a, c);
            a0 = v.fma(FloatVector.fromArray(F, x0, c), a0);
            b0 = v.fma(FloatVector.fromArray(F, x1, c), b0);
            c += L;
        }
        a0.add(a1).intoArray(lanes, 0);
        float s0 = VectorKernels.sum(lanes);
        b0.add(b1).intoArray(lanes, 0);
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
