package io.innerq.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
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
 * of a group is stream bits {@code [8bk, 8bk + 8b)}, at most 32 bits, so a chunk is read with one or two scalar
 * word loads and shifts, broadcast to all lanes, and lane i keeps code i with one variable left shift (putting the
 * code's top bit at bit 31) and one arithmetic (signed codes) or logical (unsigned codes) right shift by 32 - b.
 * For 3-bit codes, chunk 1 is {@code w0 >>> 24 | w1 << 8} and chunk 2 {@code w1 >>> 16 | w2 << 16}. 8-bit codes use
 * two words per chunk: lanes 0..3 take the first, lanes 4..7 the second.
 */
final class Lanes {

    /** fp32 lanes of every kernel. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    /** int lanes of the same width, for unpacking codes. */
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    /** Lanes per vector: codes per chunk. */
    static final int L = 8;

    // Left shift that puts code i of a chunk's field at the top of lane i: 32 - b - b*i (8-bit: per word of 4 codes).
    private static final IntVector SHIFT_2 = shifts(2, 8);
    private static final IntVector SHIFT_3 = shifts(3, 8);
    private static final IntVector SHIFT_4 = shifts(4, 8);
    private static final IntVector SHIFT_8 = shifts(8, 4);
    // Lanes 4..7: an 8-bit chunk's second word.
    private static final VectorMask<Integer> HIGH_HALF = VectorMask.fromLong(I, 0xF0);

    private Lanes() {
    }

    private static IntVector shifts(int bits, int codesPerField) {
        int[] s = new int[L];
        for (int i = 0; i < L; i++) {
            s[i] = 32 - bits - bits * (i % codesPerField);
        }
        return IntVector.fromArray(I, s, 0);
    }

    /**
     * Codes 8k..8k+7 of the b-bit group at {@code words[wo]}, sign-extended (symmetric groups), as floats.
     * The group must hold at least 8k + 8 codes.
     */
    static FloatVector signed(int[] words, int wo, int bits, int k) {
        return (FloatVector) fields(words, wo, bits, k).lanewise(ASHR, 32 - bits).convert(I2F, 0);
    }

    /** Codes 8k..8k+7 of the group at {@code words[wo]}, unsigned (asymmetric groups), as floats. */
    static FloatVector unsigned(int[] words, int wo, int bits, int k) {
        return (FloatVector) fields(words, wo, bits, k).lanewise(LSHR, 32 - bits).convert(I2F, 0);
    }

    /**
     * Codes 8k..8k+7 sign-extended and then masked: {@code mask = -1} reads a symmetric group, {@code mask = 2^b - 1}
     * an asymmetric one; hybrid groups choose per group without a branch.
     */
    static FloatVector masked(int[] words, int wo, int bits, int k, IntVector mask) {
        return (FloatVector) fields(words, wo, bits, k).lanewise(ASHR, 32 - bits).and(mask).convert(I2F, 0);
    }

    /** Lane i: chunk k's code i in the top b bits, garbage below. */
    private static IntVector fields(int[] words, int wo, int bits, int k) {
        return switch (bits) {
            case 2 -> IntVector.broadcast(I, words[wo + (k >> 1)] >>> ((k & 1) << 4)).lanewise(LSHL, SHIFT_2);
            case 3 -> IntVector.broadcast(I, field3(words, wo, k)).lanewise(LSHL, SHIFT_3);
            case 4 -> IntVector.broadcast(I, words[wo + k]).lanewise(LSHL, SHIFT_4);
            default -> IntVector.broadcast(I, words[wo + 2 * k])
                    .blend(IntVector.broadcast(I, words[wo + 2 * k + 1]), HIGH_HALF).lanewise(LSHL, SHIFT_8);
        };
    }

    /** Stream bits [24k, 24k + 24) of a 3-bit group: codes 8k..8k+7 at bits 0..23. */
    static int field3(int[] words, int wo, int k) {
        int bit = 24 * k;
        int w = wo + (bit >>> 5);
        int shift = bit & 31;
        return shift > 8 ? (words[w] >>> shift) | (words[w + 1] << (32 - shift)) : words[w] >>> shift;
    }

    /** The mask {@link #masked} takes for an asymmetric ({@code 2^b - 1}) or symmetric ({@code -1}) group. */
    static int codeMask(int bits, boolean asymmetric) {
        return asymmetric ? (1 << bits) - 1 : -1;
    }
}
