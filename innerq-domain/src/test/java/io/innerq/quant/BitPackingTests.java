package io.innerq.quant;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BitPackingTests {

    @Test
    void wordsPerGroup() {
        assertThat(BitPacking.words(2, 32)).isEqualTo(2);
        assertThat(BitPacking.words(3, 32)).isEqualTo(3);
        assertThat(BitPacking.words(4, 32)).isEqualTo(4);
        assertThat(BitPacking.words(8, 32)).isEqualTo(8);
        assertThat(BitPacking.words(3, 8)).isEqualTo(1);
        assertThat(BitPacking.words(3, 11)).isEqualTo(2);
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void roundTripsSignedAndUnsignedCodesAtAnyOffset(int bits) {
        var random = new SplittableRandom(bits);
        for (int n : new int[] {1, 7, 8, 11, 32, 33, 100, 128}) {
            int[] codes = new int[n + 3];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = random.nextInt(-(1 << (bits - 1)), 1 << (bits - 1));
            }
            int wOff = 5;
            int[] words = new int[wOff + BitPacking.words(bits, n) + 2];
            words[wOff - 1] = 0xDEADBEEF;
            words[wOff + BitPacking.words(bits, n)] = 0xCAFEBABE;
            BitPacking.pack(codes, 3, n, bits, words, wOff);
            assertThat(words[wOff - 1]).isEqualTo(0xDEADBEEF);                                 // neighbours untouched
            assertThat(words[wOff + BitPacking.words(bits, n)]).isEqualTo(0xCAFEBABE);
            int[] signed = new int[n];
            int[] unsigned = new int[n];
            BitPacking.unpack(words, wOff, bits, true, signed, 0, n);
            BitPacking.unpack(words, wOff, bits, false, unsigned, 0, n);
            for (int i = 0; i < n; i++) {
                assertThat(signed[i]).isEqualTo(codes[3 + i]);
                assertThat(unsigned[i]).isEqualTo(codes[3 + i] & ((1 << bits) - 1));
            }
        }
    }

    @Test
    void threeBitGroupOf32IsThreeWordsWithCodeIAtStreamBits3i() {
        int[] codes = new int[32];
        int[] words = new int[3];
        codes[10] = 0b111; // bits 30..32: straddles words 0 and 1
        BitPacking.pack(codes, 0, 32, 3, words, 0);
        assertThat(words).containsExactly(0xC0000000, 0x00000001, 0);

        codes[10] = 0;
        codes[21] = 0b101; // bits 63..65: low bit ends word 1, high two bits start word 2
        BitPacking.pack(codes, 0, 32, 3, words, 0);
        assertThat(words).containsExactly(0, 0x80000000, 0b10);

        codes[21] = 0;
        codes[0] = 0b011;
        codes[31] = 0b110; // bits 93..95: the top of word 2
        BitPacking.pack(codes, 0, 32, 3, words, 0);
        assertThat(words).containsExactly(0b011, 0, 0xC0000000);

        // every code 0..7 in every position survives, across both word seams
        for (int i = 0; i < 32; i++) {
            codes[i] = i % 8;
        }
        BitPacking.pack(codes, 0, 32, 3, words, 0);
        for (int i = 0; i < 32; i++) {
            assertThat(BitPacking.unsigned(words, 0, 3, i)).isEqualTo(i % 8);
            long stream = (words[0] & 0xFFFFFFFFL) | (words[1] & 0xFFFFFFFFL) << 32;
            if (3 * i + 3 <= 64) {
                assertThat((int) (stream >>> (3 * i)) & 7).isEqualTo(i % 8);
            }
        }
    }

    @Test
    void twoFourAndEightBitCodesSitLittleEndianInTheirWord() {
        int[] codes = {1, 2, 3, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3};
        int[] words = new int[1];
        BitPacking.pack(codes, 0, 16, 2, words, 0);
        assertThat(words[0]).isEqualTo(0b11_01_01_01_01_01_01_01_01_01_01_01_00_11_10_01);
        BitPacking.pack(new int[] {0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, -1}, 0, 8, 4, words, 0);
        assertThat(words[0]).isEqualTo(0xF7654321);
        BitPacking.pack(new int[] {0x11, -2, 0x7F, -128}, 0, 4, 8, words, 0);
        assertThat(words[0]).isEqualTo(0x807FFE11);
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void dotReadsCodesInPlace(int bits) {
        var random = new SplittableRandom(100 + bits);
        for (int n : new int[] {4, 8, 13, 32, 64}) {
            int[] codes = new int[n];
            for (int i = 0; i < n; i++) {
                codes[i] = random.nextInt(0, 1 << bits);
            }
            float[] x = new float[n + 2];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            int[] words = new int[1 + BitPacking.words(bits, n)];
            BitPacking.pack(codes, 0, n, bits, words, 1);
            double unsignedDot = 0;
            double signedDot = 0;
            for (int i = 0; i < n; i++) {
                unsignedDot += x[2 + i] * codes[i];
                signedDot += x[2 + i] * (codes[i] << (32 - bits) >> (32 - bits));
            }
            assertThat(BitPacking.dot(words, 1, bits, false, x, 2, n)).isCloseTo((float) unsignedDot, within(1e-3f));
            assertThat(BitPacking.dot(words, 1, bits, true, x, 2, n)).isCloseTo((float) signedDot, within(1e-3f));
        }
    }
}
