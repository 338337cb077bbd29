package io.innerq.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

/**
 * The vector shape every attention kernel uses, chosen once, and how packed codes reach float lanes.
 *
 * <p>Eight fp32 lanes (256 bits): AVX2 runs them natively and AVX-512 machines too. Eight lanes make a chunk of 8
 * codes of b <= 4 bits one 8b-bit field of the packed stream ({@link io.innerq.quant.BitPacking}'s layout): chunk k
 * of a group is stream bits {@code [8bk, 8bk + 8b)}, at most 32 bits, read with one or two scalar word loads and
 * shifts ({@link #field}; for 3-bit codes chunk 1 is {@code w0 >>> 24 | w1 << 8} and chunk 2
 * {@code w1 >>> 16 | w2 << 16}), broadcast to all lanes; lane i keeps code i with one variable left shift (putting
 * the code's top bit at bit 31, {@link #shifts}) and one arithmetic (signed codes) or logical (unsigned codes)
 * right shift by 32 - b. 8-bit codes take two words per chunk ({@link #bytes}).
 *
 * <p>Asymmetric (unsigned) codes u read through the signed path after flipping each code's top bit ({@link #flip}):
 * that yields {@code v = u - 2^(b-1)}, so {@code s * u + z = s * v + (z + s * 2^(b-1))}; hybrid groups then differ
 * from symmetric ones only by a scalar XOR and their zero term, with no branch and no mask in the vector code.
 *
 * <p>The helpers are branch-free in b: C2 inlines every call site, and a switch over b at each would multiply the
 * kernels' size past C2's inlining budget (Vector API calls that are not inlined box their vectors).
 */
final class Lanes {

    /** fp32 lanes of every kernel. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    /** int lanes of the same width, for unpacking codes. */
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    /** Lanes per vector: codes per chunk. */
    static final int L = 8;

    // [bits] left shift that puts code i of a chunk's field at the top of lane i: 32 - b - b*i (8-bit: per word)
    private static final IntVector[] SHIFTS = {null, null, shifts(2, 8), shifts(3, 8), shifts(4, 8),
            null, null, null, shifts(8, 4)};
    // Lanes 4..7: an 8-bit chunk's second word.
    private static final VectorMask<Integer> HIGH_HALF = VectorMask.fromLong(I, 0xF0);

    private Lanes() {
    }

    // For the sums of four vectors at once (sums): high halves, lanes 2, 3, 6, 7, and lane swaps.
    static final VectorMask<Float> HIGH = VectorMask.fromLong(F, 0xF0);
    static final VectorMask<Float> ODD_PAIRS = VectorMask.fromLong(F, 0xCC);
    static final VectorShuffle<Float> ROT4 = VectorShuffle.fromOp(F, i -> (i + 4) & 7);
    static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(F, i -> i ^ 2);
    static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(F, i -> i ^ 1);

    /**
     * The sum of the lanes in a fixed order, {@code ((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7))}.
     * {@code reduceLanes(ADD)} leaves the order open, and C2's intrinsic and the Java fallback (interpreter, C1, a
     * machine without 256-bit vectors) do differ; a fixed order gives the same bits in every JIT tier and on every
     * machine. The definition; kernels compute it with {@link #sums}, or for one vector with the same steps:
     * {@code h = v + v.rearrange(ROT4)}, {@code q = h + h.rearrange(SWAP2)}, then {@code q + q.rearrange(SWAP1)},
     * lane 0.
     */
    static float sum(FloatVector v) {
        return ((v.lane(0) + v.lane(4)) + (v.lane(2) + v.lane(6)))
                + ((v.lane(1) + v.lane(5)) + (v.lane(3) + v.lane(7)));
    }

    /**
     * {@link #sum} of {@code a0, a1, a2, a3} at once, in lanes 0, 4, 2 and 6 of the result (the same bits: each add
     * of the tree is one add here, and a + b = b + a), for about the cost of four reduceLanes. Kernels write these
     * four lines out rather than call this: C2 inlines a helper of ours only where it judges the call hot and within
     * its node budget, and a call left out of line boxes its vectors.
     */
    static FloatVector sums(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        FloatVector h = a0.blend(a1, HIGH).add(a1.blend(a0, HIGH).rearrange(ROT4)); // v_i + v_i+4: a0's, then a1's
        FloatVector k = a2.blend(a3, HIGH).add(a3.blend(a2, HIGH).rearrange(ROT4));
        FloatVector q = h.blend(k, ODD_PAIRS).add(k.blend(h, ODD_PAIRS).rearrange(SWAP2));
        return q.add(q.rearrange(SWAP1));
    }

    private static IntVector shifts(int bits, int codesPerField) {
        int[] s = new int[L];
        for (int i = 0; i < L; i++) {
            s[i] = 32 - bits - bits * (i % codesPerField);
        }
        return IntVector.fromArray(I, s, 0);
    }

    /** The left shifts of b-bit codes (b = 2, 3, 4 or 8); kernels load them once. */
    static IntVector shifts(int bits) {
        return SHIFTS[bits];
    }

    /**
     * Stream bits {@code [8bk, 8bk + 8b)} of the b-bit group at {@code words[wo]} (b <= 4): codes 8k..8k+7, code 8k
     * at bit 0 (higher bits are garbage). The group must hold at least 8k + 8 codes.
     */
    static int field(int[] words, int wo, int bits, int k) {
        int bit = 8 * bits * k;
        int w = wo + (bit >>> 5);
        int shift = bit & 31;
        int f = words[w] >>> shift;
        return shift + 8 * bits > 32 ? f | words[w + 1] << (32 - shift) : f;
    }

    /**
     * What to XOR into a chunk's field (or an 8-bit chunk's words) to read an asymmetric group's unsigned codes u
     * as {@code u - 2^(b-1)} through the signed path: every code's top bit; 0 for a symmetric group.
     */
    static int flip(int bits, boolean asymmetric) {
        if (!asymmetric) {
            return 0;
        }
        int f = 0;
        for (int i = 0; i < 32 / bits; i++) {
            f |= 1 << (bits * i + bits - 1);
        }
        return f;
    }

    /**
     * Codes 8k..8k+7 of a b-bit group (b <= 4) as floats: sign-extended two's complement codes, or for an
     * asymmetric group read with {@code flip(b, true)}, its unsigned codes minus {@code 2^(b-1)}.
     */
    static FloatVector signed(int[] words, int wo, int bits, int k, IntVector shifts, int flip) {
        return (FloatVector) IntVector.broadcast(I, field(words, wo, bits, k) ^ flip).lanewise(LSHL, shifts)
                .lanewise(ASHR, 32 - bits).convert(I2F, 0);
    }

    /** Codes 8k..8k+7 of a b-bit group (b <= 4), unsigned, as floats. */
    static FloatVector unsigned(int[] words, int wo, int bits, int k, IntVector shifts) {
        return (FloatVector) IntVector.broadcast(I, field(words, wo, bits, k)).lanewise(LSHL, shifts)
                .lanewise(LSHR, 32 - bits).convert(I2F, 0);
    }

    /** Codes 8k..8k+7 of an 8-bit group, as {@link #signed} reads them. */
    static FloatVector bytes(int[] words, int wo, int k, int flip) {
        return (FloatVector) bytes(words, wo, k, flip, true);
    }

    /** Codes 8k..8k+7 of an 8-bit group, unsigned. */
    static FloatVector unsignedBytes(int[] words, int wo, int k) {
        return (FloatVector) bytes(words, wo, k, 0, false);
    }

    private static jdk.incubator.vector.Vector<Float> bytes(int[] words, int wo, int k, int flip, boolean signed) {
        IntVector x = IntVector.broadcast(I, words[wo + 2 * k] ^ flip)
                .blend(IntVector.broadcast(I, words[wo + 2 * k + 1] ^ flip), HIGH_HALF).lanewise(LSHL, SHIFTS[8]);
        return (signed ? x.lanewise(ASHR, 24) : x.lanewise(LSHR, 24)).convert(I2F, 0);
    }
}
