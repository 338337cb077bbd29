package io.innerq.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

import io.innerq.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row dot products on the Vector API for every {@link io.innerq.tensor.GgmlType}, reading weights straight from the
 * tensor's segment (little-endian) and activations from a float[]. They compute what
 * {@link io.innerq.tensor.ScalarKernels#dotRow} computes, up to float summation order; a row's result does not
 * depend on the thread or JIT tier that computes it (see {@link #sum}), nor on whether it is batched
 * ({@link BatchKernels} sums in the same order).
 *
 * <p>Widths are fixed once: {@code L} floats per vector, the preferred species when it holds 4, 8 or 16 floats, or
 * the width that the system property {@value #BITS_PROPERTY} names (128, 256 or 512 bits; read once, at class
 * initialization: tests run every width on any machine; a species wider than the machine's runs, slowly, without
 * intrinsics).
 * {@code L <= 16} divides 32, so quantized rows (whole blocks of 32 or 256) need no tail; float rows have a scalar
 * one. Q8_0 loads its codes as byte vectors of {@code G = max(L, 8)} lanes (8 bytes is the smallest vector shape),
 * each widened in {@code PARTS = G / L} parts; the other quantized types take L codes per step.
 *
 * <p>Each kernel is one method whose Vector API calls C2 must inline whole: past its inlining budget (about 18,000
 * IR nodes while parsing) the calls left over box their vectors and run a hundred times slower. Hence codes
 * assembled in longs, and checks with {@code -XX:+PrintInlining} when a kernel
 * grows ("NodeCountInliningCutoff" must not appear).
 */
final class VectorKernels {

    /** The system property that forces the fp32 vector width, in bits: 128, 256 or 512. */
    static final String BITS_PROPERTY = "innerq.vector.bits";
    static final VectorSpecies<Float> F = species(System.getProperty(BITS_PROPERTY), FloatVector.SPECIES_PREFERRED);
    static final int L = F.length();
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
    // Weights are loaded as bytes and reinterpreted: C2 intrinsifies float and short loads from native segments
    // only, byte loads from heap (byte[]) segments too. Lane order assumes a little-endian platform (x64, AArch64).
    static final VectorSpecies<Byte> F_BYTES = VectorSpecies.of(byte.class, F.vectorShape());
    static final VectorSpecies<Byte> S_BYTES = VectorSpecies.of(byte.class, S.vectorShape());
    static final int G = Math.max(L, 8);
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * G));
    static final int PARTS = G / L;
    /** Two longs: code vectors are built from 64-bit words. */
    static final VectorSpecies<Long> LONGS = LongVector.SPECIES_128;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);

    private VectorKernels() {
    }

    /** The fp32 species for a {@value #BITS_PROPERTY} value ({@code null}: the preferred one, if 4 <= L <= 16). */
    static VectorSpecies<Float> species(String bits, VectorSpecies<Float> preferred) {
        if (bits == null) {
            return switch (preferred.length()) {
                case 4, 8, 16 -> preferred;
                default -> FloatVector.SPECIES_256; // e.g. wide SVE: the code assumes 4 <= L <= 16
            };
        }
        return switch (bits.strip()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("-D%s=%s: the CPU kernels take 128, 256 or 512 (bits), or "
                    .formatted(BITS_PROPERTY, bits) + "no value for the machine's preferred width");
        };
    }

    /** {@code out[r] = w[r] . x} for rows {@code from .. to}; the type is switched on once per range. */
    static void rows(Tensor w, float[] x, float[] out, int from, int to) {
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        int cols = w.cols();
        Scratch scratch = scratch(cols);
        float[] lanes = scratch.lanes;
        switch (w.type()) {
            case F32 -> {
                for (int r = from; r < to; r++) {
                    out[r] = dotF32(data, r * rowBytes, x, cols, lanes);
                }
            }
            case F16 -> {
                if (Halves.allFinite(w)) {
                    for (int r = from; r < to; r++) {
                        out[r] = dotF16(data, r * rowBytes, x, cols, lanes);
                    }
                } else {
                    for (int r = from; r < to; r++) {
                        out[r] = dotF16Exact(data, r * rowBytes, x, cols, scratch.row, scratch.halves, lanes);
                    }
                }
            }
            case BF16 -> {
                for (int r = from; r < to; r++) {
                    out[r] = dotBF16(data, r * rowBytes, x, cols, lanes);
                }
            }
            case Q8_0 -> {
                for (int r = from; r < to; r++) {
                    out[r] = dotQ8_0(data, r * rowBytes, x, cols, lanes);
                }
            }
            case Q4_0 -> {
                for (int r = from; r < to; r++) {
                    out[r] = dotQ4_0(data, r * rowBytes, x, cols, lanes);
                }
            }
            case Q4_K -> {
                for (int r = from; r < to; r++) {
                    out[r] = dotQ4_K(data, r * rowBytes, x, cols, lanes);
                }
            }
            case Q6_K -> {
                for (int r = from; r < to; r++) {
                    out[r] = dotQ6_K(data, r * rowBytes, x, cols, lanes);
                }
            }
        }
    }

    /**
     * {@code a[0..n) . b[0..n)} in the float rows' order: two accumulators taking alternate vectors (accumulator 0
     * the vectors at 0, 2L, 4L, .., and the last one when their number is odd; accumulator 1 those at L, 3L, ..),
     * added, their lanes summed by {@link #sum}, then a scalar tail. Two chains of fused multiply-adds keep a
     * one-row product at memory speed, and leave a batched product ({@link BatchKernels}) few enough accumulators
     * to keep a tile of rows and inputs in registers.
     */
    static float dot(float[] a, float[] b, int n, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        int c = 0;
        for (; c + 2 * L <= n; c += 2 * L) {
            a0 = FloatVector.fromArray(F, a, c).fma(FloatVector.fromArray(F, b, c), a0);
            a1 = FloatVector.fromArray(F, a, c + L).fma(FloatVector.fromArray(F, b, c + L), a1);
        }
        if (c + L <= n) {
            a0 = FloatVector.fromArray(F, a, c).fma(FloatVector.fromArray(F, b, c), a0);
            c += L;
        }
        a0.add(a1).intoArray(lanes, 0);
        float sum = sum(lanes);
        for (; c < n; c++) {
            sum += a[c] * b[c];
        }
        return sum;
    }

    // ---- float rows: the sums of dot (two accumulators, the odd vector, the lanes, a scalar tail) ----

    static float dotF32(MemorySegment w, long row, float[] x, int cols, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        int c = 0;
        for (; c + 2 * L <= cols; c += 2 * L) {
            a0 = f32(w, row, c).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = f32(w, row, c + L).fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        if (c + L <= cols) {
            a0 = f32(w, row, c).fma(FloatVector.fromArray(F, x, c), a0);
            c += L;
        }
        a0.add(a1).intoArray(lanes, 0);
        float sum = sum(lanes);
        for (; c < cols; c++) {
            sum += w.get(F32, row + 4L * c) * x[c];
        }
        return sum;
    }

    /**
     * fp16 rows in one pass, converted in registers: the sign-extended half shifted left by 13 ({@link #HALF_BITS})
     * puts its sign in bit 31 and its exponent and mantissa in a float's low exponent and mantissa bits; times 2^112
     * that is the half's value, exactly, for normals, subnormals and zeros. Infinities and NaNs would come out finite
     * (2^16 and up), so rows of a tensor that holds one take {@link #dotF16Exact} ({@link Halves#allFinite}). The
     * sums are {@link #dot}'s. The conversion is written out, not called: a helper that C2 compiles on its own first
     * is then not inlined, and its vectors box.
     */
    static float dotF16(MemorySegment w, long offset, float[] x, int cols, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        int c = 0;
        for (; c + 2 * L <= cols; c += 2 * L) {
            IntVector h0 = (IntVector) ByteVector.fromMemorySegment(S_BYTES, w, offset + 2L * c, LE)
                    .reinterpretAsShorts().castShape(I, 0);
            IntVector h1 = (IntVector) ByteVector.fromMemorySegment(S_BYTES, w, offset + 2L * (c + L), LE)
                    .reinterpretAsShorts().castShape(I, 0);
            a0 = h0.lanewise(LSHL, 13).and(HALF_BITS).reinterpretAsFloats().mul(HALF_TO_FLOAT)
                    .fma(FloatVector.fromArray(F, x, c), a0);
            a1 = h1.lanewise(LSHL, 13).and(HALF_BITS).reinterpretAsFloats().mul(HALF_TO_FLOAT)
                    .fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        if (c + L <= cols) {
            IntVector h = (IntVector) ByteVector.fromMemorySegment(S_BYTES, w, offset + 2L * c, LE)
                    .reinterpretAsShorts().castShape(I, 0);
            a0 = h.lanewise(LSHL, 13).and(HALF_BITS).reinterpretAsFloats().mul(HALF_TO_FLOAT)
                    .fma(FloatVector.fromArray(F, x, c), a0);
            c += L;
        }
        a0.add(a1).intoArray(lanes, 0);
        float sum = sum(lanes);
        for (; c < cols; c++) {
            sum += f16(w, offset + 2L * c) * x[c];
        }
        return sum;
    }

    /**
     * {@link #dotF16} of one row with four inputs, each weight vector converted once for all four, bit for bit
     * dotF16's sums: {@code outs[i + m][r] = w . x_m} for {@code m < count} (the inputs past count are padding). The
     * row is read once, so a few inputs (a decode step of a few sequences) cost little more than one. The conversions
     * are written out: C2 may compile a helper that returns a vector on its own, and box what it returns.
     */
    static void dotF16x4(MemorySegment w, long offset, float[] x0, float[] x1, float[] x2, float[] x3, int cols,
                         float[] lanes, float[][] outs, int i, int r, int count) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = a0, c0 = a0, d0 = a0, a1 = a0, b1 = a0, c1 = a0, d1 = a0;
        int c = 0;
        for (; c + 2 * L <= cols; c += 2 * L) {
            IntVector h0 = (IntVector) ByteVector.fromMemorySegment(S_BYTES, w, offset + 2L * c, LE)
                    .reinterpretAsShorts().castShape(I, 0);
            FloatVector v = h0.lanewise(LSHL, 13).and(HALF_BITS).reinterpretAsFloats().mul(HALF_TO_FLOAT);
            a0 = v.fma(FloatVector.fromArray(F, x0, c), a0);
            b0 = v.fma(FloatVector.fromArray(F, x1, c), b0);
            c0 = v.fma(FloatVector.fromArray(F, x2, c), c0);
            d0 = v.fma(FloatVector.fromArray(F, x3, c), d0);
            IntVector h1 = (IntVector) ByteVector.fromMemorySegment(S_BYTES, w, offset + 2L * (c + L), LE)
                    .reinterpretAsShorts().castShape(I, 0);
            v = h1.lanewise(LSHL, 13).and(HALF_BITS).reinterpretAsFloats().mul(HALF_TO_FLOAT);
            a1 = v.fma(FloatVector.fromArray(F, x0, c + L), a1);
            b1 = v.fma(FloatVector.fromArray(F, x1, c + L), b1);
            c1 = v.fma(FloatVector.fromArray(F, x2, c + L), c1);
            d1 = v.fma(FloatVector.fromArray(F, x3, c + L), d1);
        }
        if (c + L <= cols) {
            IntVector h = (IntVector) ByteVector.fromMemorySegment(S_BYTES, w, offset + 2L * c, LE)
                    .reinterpretAsShorts().castShape(I, 0);
            FloatVector v = h.lanewise(LSHL, 13).and(HALF_BITS).reinterpretAsFloats().mul(HALF_TO_FLOAT);
            a0 = v.fma(FloatVector.fromArray(F, x0, c), a0);
            b0 = v.fma(FloatVector.fromArray(F, x1, c), b0);
            c0 = v.fma(FloatVector.fromArray(F, x2, c), c0);
            d0 = v.fma(FloatVector.fromArray(F, x3, c), d0);
            c += L;
        }
        a0.add(a1).intoArray(lanes, 0);
        float s0 = sum(lanes);
        b0.add(b1).intoArray(lanes, 0);
        float s1 = sum(lanes);
        c0.add(c1).intoArray(lanes, 0);
        float s2 = sum(lanes);
        d0.add(d1).intoArray(lanes, 0);
        float s3 = sum(lanes);
        for (; c < cols; c++) {
            float h = f16(w, offset + 2L * c);
            s0 += h * x0[c];
            s1 += h * x1[c];
            s2 += h * x2[c];
            s3 += h * x3[c];
        }
        outs[i][r] = s0;
        if (count > 1) {
            outs[i + 1][r] = s1;
        }
        if (count > 2) {
            outs[i + 2][r] = s2;
        }
        if (count > 3) {
            outs[i + 3][r] = s3;
        }
    }

    /** 2^(127 - 15): turns a half's bits, placed in a float's, into the half's value. */
    private static final float HALF_TO_FLOAT = 0x1p112f;
    /** A float's sign and the 15 bits of a half's exponent and mantissa, once shifted left by 13. */
    private static final int HALF_BITS = 0x8FFF_E000;

    /**
     * An fp16 row of a tensor that holds an infinity or NaN: converted first ({@link Float#float16ToFloat}, which C2
     * compiles to F16C's vcvtph2ps), then {@link #dot}.
     *
     * @param row    scratch, {@code float[>= cols]}
     * @param halves scratch, {@code short[>= cols]}
     */
    static float dotF16Exact(MemorySegment w, long offset, float[] x, int cols, float[] row, short[] halves,
                             float[] lanes) {
        halvesToFloats(w, offset, cols, row, halves);
        return dot(row, x, cols, lanes);
    }

    /** A row of finite fp16 values as floats, converted in registers as {@link #dotF16} converts them. */
    static void decodeF16(MemorySegment w, long offset, int cols, float[] row) {
        int c = 0;
        for (; c + L <= cols; c += L) {
            IntVector h = (IntVector) ByteVector.fromMemorySegment(S_BYTES, w, offset + 2L * c, LE)
                    .reinterpretAsShorts().castShape(I, 0);
            h.lanewise(LSHL, 13).and(HALF_BITS).reinterpretAsFloats().mul(HALF_TO_FLOAT).intoArray(row, c);
        }
        for (; c < cols; c++) {
            row[c] = f16(w, offset + 2L * c);
        }
    }

    /** Converts {@code cols} fp16 values at {@code offset} into {@code row}, through {@code halves}. */
    static void halvesToFloats(MemorySegment w, long offset, int cols, float[] row, short[] halves) {
        int h = 0;
        for (; h + 2 * L <= cols; h += 2 * L) { // bytes, not shorts: short loads from heap segments box
            ByteVector.fromMemorySegment(F_BYTES, w, offset + 2L * h, LE).reinterpretAsShorts().intoArray(halves, h);
        }
        for (; h < cols; h++) {
            halves[h] = w.get(I16, offset + 2L * h);
        }
        for (int c = 0; c < cols; c++) {
            row[c] = Float.float16ToFloat(halves[c]);
        }
    }

    /** A thread's scratch for one row: floats, fp16 halves, block scales ({@link BatchKernels}), lanes to sum. */
    record Scratch(float[] row, short[] halves, float[] scales, float[] mins, float[] lanes) {
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> scratchOf(0));

    private static Scratch scratchOf(int cols) {
        return new Scratch(new float[cols], new short[cols], new float[cols / 16], new float[cols / 32], new float[L]);
    }

    /** This thread's scratch for rows of {@code cols}; allocates only when a wider row first appears. */
    static Scratch scratch(int cols) {
        Scratch s = SCRATCH.get();
        if (s.row.length < cols) {
            s = scratchOf(cols);
            SCRATCH.set(s);
        }
        return s;
    }

    static float dotBF16(MemorySegment w, long row, float[] x, int cols, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        int c = 0;
        for (; c + 2 * L <= cols; c += 2 * L) {
            a0 = bf16(w, row, c).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = bf16(w, row, c + L).fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        if (c + L <= cols) {
            a0 = bf16(w, row, c).fma(FloatVector.fromArray(F, x, c), a0);
            c += L;
        }
        a0.add(a1).intoArray(lanes, 0);
        float sum = sum(lanes);
        for (; c < cols; c++) {
            sum += Float.intBitsToFloat(w.get(I16, row + 2L * c) << 16) * x[c];
        }
        return sum;
    }

    /**
     * The sum of a vector's lanes, stored at {@code lanes[0, L)}, as a fixed tree: {@code v_i + v_(i + h)} for
     * h = L/2, L/4, ..., 1 (for L = 8: {@code ((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7))}).
     * {@code reduceLanes(ADD)} leaves the order open, and C2 and the interpreter do differ; a fixed order makes a
     * row's result independent of the thread that ran it and of the JIT tier. Kernels store their accumulator
     * ({@code intoArray}) and call this with scalars only: a helper that takes a vector boxes it wherever C2 does not
     * inline the call (a cold call site, or a kernel past its node budget, as Q6_K's at 16 lanes). As fast as
     * rotations here.
     */
    static float sum(float[] lanes) {
        float[] a = lanes;
        return switch (L) {
            case 4 -> (a[0] + a[2]) + (a[1] + a[3]);
            case 8 -> ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
            default -> (((a[0] + a[8]) + (a[4] + a[12])) + ((a[2] + a[10]) + (a[6] + a[14])))
                    + (((a[1] + a[9]) + (a[5] + a[13])) + ((a[3] + a[11]) + (a[7] + a[15])));
        };
    }

    /** L f32 weights from column {@code c} of the row at byte {@code row}. */
    private static FloatVector f32(MemorySegment w, long row, int c) {
        return ByteVector.fromMemorySegment(F_BYTES, w, row + 4L * c, LE).reinterpretAsFloats();
    }

    /** L 16-bit weights from column {@code c}, sign-extended to ints. */
    private static IntVector halves(MemorySegment w, long row, int c) {
        return (IntVector) ByteVector.fromMemorySegment(S_BYTES, w, row + 2L * c, LE).reinterpretAsShorts()
                .castShape(I, 0);
    }

    /** L bf16 weights from column {@code c}: the high half of a float. */
    private static FloatVector bf16(MemorySegment w, long row, int c) {
        IntVector h = halves(w, row, c);
        return h.lanewise(LSHL, 16).reinterpretAsFloats();
    }

    private static float f16(MemorySegment w, long at) {
        return Float.float16ToFloat(w.get(I16, at));
    }

    /** Codes {@code G} at a time from byte {@code at}. */
    private static ByteVector codes(MemorySegment w, long at) {
        return ByteVector.fromMemorySegment(B, w, at, LE);
    }

    /**
     * {@code acc + codes . x} over part {@code p} of the codes (lanes {@code p * L ..}) and {@code x[xi + p * L ..]}.
     * Callers pass {@code p} as a constant, 0 and, when {@code PARTS == 2}, 1: C2 intrinsifies a conversion only
     * when the part is known.
     */
    private static FloatVector dotPart(ByteVector q, int p, float[] x, int xi, FloatVector acc) {
        return ((FloatVector) q.castShape(F, p)).fma(FloatVector.fromArray(F, x, xi + p * L), acc);
    }

    // ---- Q8_0: 34-byte blocks of fp16 d, int8 qs[32]; sum per block, scale once ----

    static float dotQ8_0(MemorySegment w, long row, float[] x, int cols, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            long block = row + 34L * b;
            int xb = 32 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < 32; j += G) {
                ByteVector q = codes(w, block + 2 + j);
                sum = dotPart(q, 0, x, xb + j, sum);
                if (PARTS == 2) {
                    sum = dotPart(q, 1, x, xb + j, sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(F, f16(w, block)), acc);
        }
        acc.intoArray(lanes, 0);
        return sum(lanes);
    }

    // ---- Codes assembled in general-purpose registers ----
    // Q6_K at every width, and Q4_0 and Q4_K at L = 4, take L codes per step as words (an int, a long or two longs),
    // unpack nibbles and bit pairs in them, and only widen and multiply in vectors. That keeps their bodies within
    // C2's inlining budget (vector byte operations cost more IR nodes, and L = 4 would need two parts per load) and
    // uses the scalar ALUs the vector code leaves idle. Where the budget allows, vector byte operations are faster.

    private static final long NIBBLES = 0x0F0F_0F0F_0F0F_0F0FL;
    private static final long TOP_BITS = 0x8080_8080_8080_8080L;

    /** The first (up to) 8 of the L code bytes at {@code at}: an int, zero-extended, when L = 4. */
    private static long word(MemorySegment w, long at) {
        return L == 4 ? Integer.toUnsignedLong(w.get(I32, at)) : w.get(I64, at);
    }

    /** Code bytes 8..15 at {@code at} when L = 16; otherwise 0 (unused). */
    private static long word2(MemorySegment w, long at) {
        return L == 16 ? w.get(I64, at + 8) : 0;
    }

    /** {@code u - k} per byte, for bytes of {@code u} in [0, 128) and {@code k} one byte repeated, at most 127. */
    private static long subBytes(long u, long k) {
        return ((u | TOP_BITS) - k) ^ TOP_BITS; // the top bits stop borrows between bytes
    }

    /** The bytes of {@code lo} (and of {@code hi} when L = 16) as the low lanes of a 16-byte vector. */
    private static ByteVector bytes(long lo, long hi) {
        LongVector v = LongVector.broadcast(LONGS, lo); // C2 has no vectors of one long
        return (L == 16 ? v.withLane(1, hi) : v).reinterpretAsBytes();
    }

    /**
     * The low ({@code high} = 0) or high ({@code high} = 1) nibbles of the L code bytes at {@code at}, minus
     * {@code offset}, in the low L lanes. Callers pass constants, so C2 keeps one branch.
     */
    private static ByteVector nibbles(MemorySegment w, long at, int high, int offset) {
        if (L == 4) {
            long q = word(w, at) >>> 4 * high & NIBBLES;
            return bytes(offset == 0 ? q : subBytes(q, offset * 0x0101_0101_0101_0101L), 0);
        }
        ByteVector q = ByteVector.fromMemorySegment(B, w, at, LE); // B has L lanes when L >= 8
        // x86 has no byte shifts: shift 32-bit lanes and mask away the bits that crossed from the next byte.
        if (high == 1) {
            q = q.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes();
        }
        q = q.and((byte) 0xF);
        return offset == 0 ? q : q.sub((byte) offset);
    }

    /** {@code acc + codes . x[xi ..]} over the low L code lanes. */
    private static FloatVector dot(ByteVector q, float[] x, int xi, FloatVector acc) {
        return ((FloatVector) q.castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi), acc);
    }

    /** {@code acc + scale * (codes . x[xi ..])}, lane-wise, over the low L code lanes. */
    private static FloatVector dot(ByteVector q, float[] x, int xi, FloatVector scale, FloatVector acc) {
        return ((FloatVector) q.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi)).fma(scale, acc);
    }

    // ---- Q4_0: 18-byte blocks of fp16 d, qs[16]; low nibbles are elements 0..15, high nibbles 16..31 ----

    static float dotQ4_0(MemorySegment w, long row, float[] x, int cols, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            long block = row + 18L * b;
            int xb = 32 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                sum = dot(nibbles(w, block + 2 + j, 0, 8), x, xb + j, sum);
                sum = dot(nibbles(w, block + 2 + j, 1, 8), x, xb + 16 + j, sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, f16(w, block)), acc);
        }
        acc.intoArray(lanes, 0);
        return sum(lanes);
    }

    // ---- Q4_K: 144-byte blocks of fp16 d, fp16 dmin, scales[12], qs[128]; 8 sub-blocks of 32 ----
    // Sub-block j: w = d * scale(j) * q - dmin * min(j), so w . x = d * scale(j) * (q . x) - dmin * min(j) * sum(x).
    // The 64 elements of chunk c are sub-blocks 2c (low nibbles of qs[32c ..]) and 2c + 1 (high nibbles).

    static float dotQ4_K(MemorySegment w, long row, float[] x, int cols, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);  // sum over sub-blocks of d * scale * (q . x)
        FloatVector mins = FloatVector.zero(F); // sum over sub-blocks of dmin * min * sum(x)
        for (int b = 0; b < cols / 256; b++) {
            long block = row + 144L * b;
            long head = w.get(I64, block);     // fp16 d, fp16 dmin, scale bytes 0..3
            long tail = w.get(I64, block + 8); // scale bytes 4..11
            float d = Float.float16ToFloat((short) head);
            float dmin = Float.float16ToFloat((short) (head >>> 16));
            int q0 = (int) (head >>> 32);      // scales 0..3 and the top bits of scales 4..7
            int q1 = (int) tail;               // mins 0..3 and the top bits of mins 4..7
            int q2 = (int) (tail >>> 32);      // low bits of scales and mins 4..7
            for (int chunk = 0; chunk < 4; chunk++) {
                long qs = block + 16 + 32L * chunk;
                int x0 = 256 * b + 64 * chunk;
                FloatVector qxLo = FloatVector.zero(F);
                FloatVector qxHi = qxLo;
                FloatVector xLo = qxLo;
                FloatVector xHi = qxLo;
                for (int l = 0; l < 32; l += L) {
                    qxLo = dot(nibbles(w, qs + l, 0, 0), x, x0 + l, qxLo);
                    qxHi = dot(nibbles(w, qs + l, 1, 0), x, x0 + 32 + l, qxHi);
                    xLo = xLo.add(FloatVector.fromArray(F, x, x0 + l));
                    xHi = xHi.add(FloatVector.fromArray(F, x, x0 + 32 + l));
                }
                int j = 2 * chunk;
                acc = qxLo.fma(FloatVector.broadcast(F, d * q4kScale(q0, q2, j)), acc);
                acc = qxHi.fma(FloatVector.broadcast(F, d * q4kScale(q0, q2, j + 1)), acc);
                mins = xLo.fma(FloatVector.broadcast(F, dmin * q4kScale(q1, q2 >>> 4, j)), mins);
                mins = xHi.fma(FloatVector.broadcast(F, dmin * q4kScale(q1, q2 >>> 4, j + 1)), mins);
            }
        }
        acc.sub(mins).intoArray(lanes, 0);
        return sum(lanes);
    }

    /**
     * GGML's get_scale_min_k4 on scale bytes held in ints: sub-block {@code j < 4} is the low 6 bits of byte j of
     * {@code low}; {@code j >= 4} is the low nibble of byte j - 4 of {@code nibbles} with the top 2 bits of byte
     * j - 4 of {@code low} above it. Scales pass (q0, q2), mins (q1, q2 >>> 4).
     */
    static int q4kScale(int low, int nibbles, int j) {
        if (j < 4) {
            return (low >>> 8 * j) & 63;
        }
        int i = 8 * (j - 4);
        return ((nibbles >>> i) & 0xF) | ((low >>> i + 6) & 3) << 4;
    }

    // ---- Q6_K: 210-byte blocks of ql[128], qh[64], int8 scales[16], fp16 d ----
    // Half h: ql[64h ..], qh[32h ..], scales[8h ..]. Position l < 32 gives elements l + 32k (k = 0..3) of the half,
    // code (nibble | (qh[l] >> 2k & 3) << 4) - 32 with nibbles: low of ql[l], low of ql[l + 32], high of ql[l], high
    // of ql[l + 32]. Element l + 32k has scale index l / 16 + 2k, constant over a step of L <= 16 positions.

    static float dotQ6_K(MemorySegment w, long row, float[] x, int cols, float[] lanes) {
        FloatVector acc1 = FloatVector.zero(F); // one accumulator per k, for independent chains
        FloatVector acc2 = acc1;
        FloatVector acc3 = acc1;
        FloatVector acc4 = acc1;
        for (int b = 0; b < cols / 256; b++) {
            long block = row + 210L * b;
            float d = f16(w, block + 208);
            for (int half = 0; half < 2; half++) {
                long ql = block + 64L * half;
                long qh = block + 128 + 32L * half;
                long scales = w.get(I64, block + 192 + 8L * half); // int8 [8]
                int x0 = 256 * b + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    long sc = scales >> 8 * (l / 16); // byte 2k is the scale of element l + 32k
                    FloatVector s1 = FloatVector.broadcast(F, d * (byte) sc);
                    FloatVector s2 = FloatVector.broadcast(F, d * (byte) (sc >> 16));
                    FloatVector s3 = FloatVector.broadcast(F, d * (byte) (sc >> 32));
                    FloatVector s4 = FloatVector.broadcast(F, d * (byte) (sc >> 48));
                    long a = word(w, ql + l);
                    long c = word(w, ql + l + 32);
                    long h = word(w, qh + l);
                    long a2 = word2(w, ql + l); // bytes 8..15, when L = 16
                    long c2 = word2(w, ql + l + 32);
                    long h2 = word2(w, qh + l);
                    int xl = x0 + l;
                    acc1 = dot(bytes(q6k(a, h << 4), q6k(a2, h2 << 4)), x, xl, s1, acc1);
                    acc2 = dot(bytes(q6k(c, h << 2), q6k(c2, h2 << 2)), x, xl + 32, s2, acc2);
                    acc3 = dot(bytes(q6k(a >>> 4, h), q6k(a2 >>> 4, h2)), x, xl + 64, s3, acc3);
                    acc4 = dot(bytes(q6k(c >>> 4, h >>> 2), q6k(c2 >>> 4, h2 >>> 2)), x, xl + 96, s4, acc4);
                }
            }
        }
        acc1.add(acc2).add(acc3.add(acc4)).intoArray(lanes, 0);
        return sum(lanes);
    }

    /** Signed Q6_K codes: per byte, {@code (nibbles & 0xF | high & 0x30) - 32}. */
    private static long q6k(long nibbles, long high) {
        return subBytes(nibbles & NIBBLES | high & 0x3030_3030_3030_3030L, 0x2020_2020_2020_2020L);
    }

    // ---- Decoders for BatchKernels: the loads and unpacking of the kernels above, stored as exact floats ----

    /** BF16 weights of the row at byte {@code row} into {@code q[cols]}. */
    static void decodeBF16(MemorySegment w, long row, int cols, float[] q) {
        int c = 0;
        for (; c + L <= cols; c += L) {
            bf16(w, row, c).intoArray(q, c);
        }
        for (; c < cols; c++) {
            q[c] = Float.intBitsToFloat(w.get(I16, row + 2L * c) << 16);
        }
    }

    /** A Q8_0 row: codes into {@code q[cols]}, block scales into {@code d[cols / 32]}. */
    static void decodeQ8_0(MemorySegment w, long row, int cols, float[] q, float[] d) {
        for (int b = 0; b < cols / 32; b++) {
            long block = row + 34L * b;
            d[b] = f16(w, block);
            for (int j = 0; j < 32; j += G) {
                ByteVector c = codes(w, block + 2 + j);
                ((FloatVector) c.castShape(F, 0)).intoArray(q, 32 * b + j);
                if (PARTS == 2) {
                    ((FloatVector) c.castShape(F, 1)).intoArray(q, 32 * b + j + L);
                }
            }
        }
    }

    /** A Q4_0 row: codes minus 8 into {@code q[cols]} in element order, block scales into {@code d[cols / 32]}. */
    static void decodeQ4_0(MemorySegment w, long row, int cols, float[] q, float[] d) {
        for (int b = 0; b < cols / 32; b++) {
            long block = row + 18L * b;
            d[b] = f16(w, block);
            for (int j = 0; j < 16; j += L) {
                ((FloatVector) nibbles(w, block + 2 + j, 0, 8).castShape(F, 0)).intoArray(q, 32 * b + j);
                ((FloatVector) nibbles(w, block + 2 + j, 1, 8).castShape(F, 0)).intoArray(q, 32 * b + 16 + j);
            }
        }
    }

    /**
     * A Q4_K row: codes into {@code q[cols]} in element order; per sub-block j of block b, {@code d * scale(j)} into
     * {@code ds[8b + j]} and {@code dmin * min(j)} into {@code ms[8b + j]} ({@code [cols / 32]} each).
     */
    static void decodeQ4_K(MemorySegment w, long row, int cols, float[] q, float[] ds, float[] ms) {
        for (int b = 0; b < cols / 256; b++) {
            long block = row + 144L * b;
            long head = w.get(I64, block);
            long tail = w.get(I64, block + 8);
            float d = Float.float16ToFloat((short) head);
            float dmin = Float.float16ToFloat((short) (head >>> 16));
            int q0 = (int) (head >>> 32);
            int q1 = (int) tail;
            int q2 = (int) (tail >>> 32);
            for (int j = 0; j < 8; j++) {
                ds[8 * b + j] = d * q4kScale(q0, q2, j);
                ms[8 * b + j] = dmin * q4kScale(q1, q2 >>> 4, j);
            }
            for (int chunk = 0; chunk < 4; chunk++) {
                long qs = block + 16 + 32L * chunk;
                int x0 = 256 * b + 64 * chunk;
                for (int l = 0; l < 32; l += L) {
                    ((FloatVector) nibbles(w, qs + l, 0, 0).castShape(F, 0)).intoArray(q, x0 + l);
                    ((FloatVector) nibbles(w, qs + l, 1, 0).castShape(F, 0)).intoArray(q, x0 + 32 + l);
                }
            }
        }
    }

    /**
     * A Q6_K row: signed codes into {@code q[cols]} in element order; {@code d * scales[i]} into {@code s[16b + i]}
     * ({@code [cols / 16]}).
     */
    static void decodeQ6_K(MemorySegment w, long row, int cols, float[] q, float[] s) {
        for (int b = 0; b < cols / 256; b++) {
            long block = row + 210L * b;
            float d = f16(w, block + 208);
            for (int i = 0; i < 16; i++) {
                s[16 * b + i] = d * w.get(ValueLayout.JAVA_BYTE, block + 192 + i);
            }
            for (int half = 0; half < 2; half++) {
                long ql = block + 64L * half;
                long qh = block + 128 + 32L * half;
                int x0 = 256 * b + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    long a = word(w, ql + l);
                    long c = word(w, ql + l + 32);
                    long h = word(w, qh + l);
                    long a2 = word2(w, ql + l);
                    long c2 = word2(w, ql + l + 32);
                    long h2 = word2(w, qh + l);
                    int xl = x0 + l;
                    ((FloatVector) bytes(q6k(a, h << 4), q6k(a2, h2 << 4)).castShape(F, 0)).intoArray(q, xl);
                    ((FloatVector) bytes(q6k(c, h << 2), q6k(c2, h2 << 2)).castShape(F, 0)).intoArray(q, xl + 32);
                    ((FloatVector) bytes(q6k(a >>> 4, h), q6k(a2 >>> 4, h2)).castShape(F, 0)).intoArray(q, xl + 64);
                    ((FloatVector) bytes(q6k(c >>> 4, h >>> 2), q6k(c2 >>> 4, h2 >>> 2)).castShape(F, 0))
                            .intoArray(q, xl + 96);
                }
            }
        }
    }
}
