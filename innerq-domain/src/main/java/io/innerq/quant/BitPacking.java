package io.innerq.quant;

/**
 * Dense packing of b-bit codes (b = 2, 3, 4 or 8) into 32-bit words, one group at a time.
 *
 * <p>Layout: a group of n codes occupies {@code words(b, n) = ceil(n * b / 32)} consecutive ints, starting at a word
 * boundary. Read the group's words as one little-endian bit stream (stream bit j = bit {@code j % 32} of word
 * {@code j / 32}); code i occupies stream bits {@code [b*i, b*i + b)}, least significant bit first. Unused high bits
 * of the last word are zero. So:
 * <pre>
 *   b = 2, 4, 8: 32/b codes per word; code i is bits [b*(i % (32/b)), +b) of word i / (32/b); never split
 *   b = 3:       a group of 32 codes is exactly 3 words (96 bits):
 *                word 0 = codes 0..9 (bits 0..29) + the low 2 bits of code 10 (bits 30..31)
 *                word 1 = the high bit of code 10 (bit 0) + codes 11..20 (bits 1..30) + the low bit of code 21 (bit 31)
 *                word 2 = the high 2 bits of code 21 (bits 0..1) + codes 22..31 (bits 2..31)
 *                a group of 8 codes (key groups of head_dim 8) uses bits 0..23 of one word
 * </pre>
 * A field holds a code's low b bits: two's complement for symmetric groups (read with {@code signed = true}, sign
 * extended), plain unsigned for asymmetric ones.
 */
public final class BitPacking {

    private BitPacking() {
    }

    /** Whether {@code bits} is a supported code width. */
    public static boolean supports(int bits) {
        return bits == 2 || bits == 3 || bits == 4 || bits == 8;
    }

    static void checkBits(int bits) {
        if (!supports(bits)) {
            throw new IllegalArgumentException("unsupported code width %d bits: use 2, 3, 4 or 8".formatted(bits));
        }
    }

    /** 32-bit words that hold a group of {@code n} codes of {@code bits} bits. */
    public static int words(int bits, int n) {
        return (n * bits + 31) >>> 5;
    }

    /** Packs {@code codes[cOff .. cOff+n)} (low b bits of each) into the group starting at {@code words[wOff]}. */
    public static void pack(int[] codes, int cOff, int n, int bits, int[] words, int wOff) {
        int mask = (1 << bits) - 1;
        int count = words(bits, n);
        for (int w = 0; w < count; w++) {
            words[wOff + w] = 0;
        }
        for (int i = 0; i < n; i++) {
            int bit = i * bits;
            int w = wOff + (bit >>> 5);
            int shift = bit & 31;
            int field = codes[cOff + i] & mask;
            words[w] |= field << shift;
            if (shift + bits > 32) {
                words[w + 1] |= field >>> (32 - shift);
            }
        }
    }

    /** Code {@code i} of the group at {@code words[wOff]}, as an unsigned field. */
    public static int unsigned(int[] words, int wOff, int bits, int i) {
        int bit = i * bits;
        int w = wOff + (bit >>> 5);
        int shift = bit & 31;
        int field = words[w] >>> shift;
        if (shift + bits > 32) {
            field |= words[w + 1] << (32 - shift);
        }
        return field & ((1 << bits) - 1);
    }

    /** Code {@code i} of the group at {@code words[wOff]}, sign-extended from b bits. */
    public static int signed(int[] words, int wOff, int bits, int i) {
        return unsigned(words, wOff, bits, i) << (32 - bits) >> (32 - bits);
    }

    /** Unpacks {@code n} codes of the group at {@code words[wOff]} into {@code codes[cOff ..)}. */
    public static void unpack(int[] words, int wOff, int bits, boolean signed, int[] codes, int cOff, int n) {
        for (int i = 0; i < n; i++) {
            codes[cOff + i] = signed ? signed(words, wOff, bits, i) : unsigned(words, wOff, bits, i);
        }
    }

    /**
     * {@code sum_i x[xOff + i] * c_i} over the {@code n} codes of the group at {@code words[wOff]}, read in place
     * (fp32, ascending i). The caller applies the group's scale (and zero point) once to the result.
     */
    public static float dot(int[] words, int wOff, int bits, boolean signed, float[] x, int xOff, int n) {
        if (bits == 3) {
            float acc = 0f;
            for (int i = 0; i < n; i++) {
                int c = signed ? signed(words, wOff, 3, i) : unsigned(words, wOff, 3, i);
                acc += x[xOff + i] * c;
            }
            return acc;
        }
        int perWord = 32 / bits;
        int mask = (1 << bits) - 1;
        int back = 32 - bits;
        float acc = 0f;
        int i = 0;
        for (int w = wOff; i < n; w++) {
            int word = words[w];
            int end = Math.min(n, i + perWord);
            for (int shift = 0; i < end; i++, shift += bits) {
                int c = signed ? word << (back - shift) >> back : (word >>> shift) & mask;
                acc += x[xOff + i] * c;
            }
        }
        return acc;
    }
}
