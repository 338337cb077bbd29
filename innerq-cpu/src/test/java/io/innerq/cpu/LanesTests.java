package io.innerq.cpu;

import io.innerq.quant.BitPacking;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Unpacking chunks of 8 codes into lanes agrees with {@link BitPacking}'s scalar readers at every code width; lane sums
 * take one fixed order.
 */
class LanesTests {

    /** Groups of {@code n} random codes packed back to back, the last one ending the array (no reads past it). */
    private static int[] packedGroups(int bits, int n, int groups, long seed) {
        var random = new SplittableRandom(seed);
        int words = BitPacking.words(bits, n);
        int[] packed = new int[groups * words];
        int[] codes = new int[n];
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < n; i++) {
                codes[i] = random.nextInt(1 << bits);
            }
            BitPacking.pack(codes, 0, n, bits, packed, g * words);
        }
        return packed;
    }

    private static float lane(FloatVector v, int i) {
        return v.lane(i);
    }

    @ParameterizedTest(name = "{0}-bit")
    @ValueSource(ints = {2, 3, 4})
    void signedUnsignedAndFlippedChunksMatchTheScalarReaders(int bits) {
        IntVector shifts = Lanes.shifts(bits);
        for (int n : new int[] {8, 16, 32, 64, 256}) {
            int words = BitPacking.words(bits, n);
            int[] packed = packedGroups(bits, n, 5, bits * 1000L + n);
            int half = 1 << (bits - 1);
            for (int g = 0; g < 5; g++) {
                int wo = g * words;
                for (int k = 0; k < n / 8; k++) {
                    FloatVector signed = Lanes.signed(packed, wo, bits, k, shifts, 0);
                    FloatVector unsigned = Lanes.unsigned(packed, wo, bits, k, shifts);
                    FloatVector flipped = Lanes.signed(packed, wo, bits, k, shifts, Lanes.flip(bits, true));
                    for (int i = 0; i < 8; i++) {
                        int code = 8 * k + i;
                        String where = "n=%d group %d code %d".formatted(n, g, code);
                        assertThat(lane(signed, i)).as(where).isEqualTo(BitPacking.signed(packed, wo, bits, code));
                        assertThat(lane(unsigned, i)).as(where).isEqualTo(BitPacking.unsigned(packed, wo, bits, code));
                        assertThat(lane(flipped, i)).as(where).isEqualTo(BitPacking.unsigned(packed, wo, bits, code) - half);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "groups of {0}")
    @ValueSource(ints = {8, 16, 32, 256})
    void eightBitChunksMatchTheScalarReaders(int n) {
        int words = BitPacking.words(8, n);
        int[] packed = packedGroups(8, n, 3, n);
        for (int g = 0; g < 3; g++) {
            int wo = g * words;
            for (int k = 0; k < n / 8; k++) {
                FloatVector signed = Lanes.bytes(packed, wo, k, 0);
                FloatVector flipped = Lanes.bytes(packed, wo, k, Lanes.flip(8, true));
                FloatVector unsigned = Lanes.unsignedBytes(packed, wo, k);
                for (int i = 0; i < 8; i++) {
                    int code = 8 * k + i;
                    assertThat(lane(signed, i)).isEqualTo(BitPacking.signed(packed, wo, 8, code));
                    assertThat(lane(flipped, i)).isEqualTo(BitPacking.unsigned(packed, wo, 8, code) - 128);
                    assertThat(lane(unsigned, i)).isEqualTo(BitPacking.unsigned(packed, wo, 8, code));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}-bit")
    @ValueSource(ints = {2, 3, 4, 8})
    void aSymmetricGroupIsNotFlipped(int bits) {
        assertThat(Lanes.flip(bits, false)).isZero();
        int flip = Lanes.flip(bits, true);
        for (int i = 0; i < 32 / bits; i++) { // exactly every code's top bit
            int field = (flip >>> (bits * i)) & ((1 << bits) - 1);
            assertThat(field).isEqualTo(1 << (bits - 1));
        }
    }

    @Test
    void sumAddsTheLanesInOneFixedOrder() {
        float[] v = {1e8f, 3f, -1e8f, 5f, 7f, -1e-3f, 11f, 1e-7f}; // magnitudes for which the order shows
        float sequential = 0f;
        for (float x : v) {
            sequential += x;
        }
        float tree = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
        assertThat(sequential).isNotEqualTo(tree);
        assertThat(Lanes.sum(FloatVector.fromArray(Lanes.F, v, 0))).isEqualTo(tree);
        var random = new SplittableRandom(3);
        for (int n = 0; n < 10_000; n++) {
            for (int i = 0; i < 8; i++) {
                v[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-6, 7)));
            }
            tree = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
            assertThat(Lanes.sum(FloatVector.fromArray(Lanes.F, v, 0))).isEqualTo(tree);
        }
    }

    @Test
    void sumsOfFourVectorsAreTheirSums() {
        var random = new SplittableRandom(5);
        float[] a = new float[32];
        for (int n = 0; n < 10_000; n++) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-6, 7)));
            }
            FloatVector[] v = new FloatVector[4];
            for (int j = 0; j < 4; j++) {
                v[j] = FloatVector.fromArray(Lanes.F, a, 8 * j);
            }
            FloatVector sums = Lanes.sums(v[0], v[1], v[2], v[3]);
            int[] lane = {0, 4, 2, 6};
            for (int j = 0; j < 4; j++) {
                assertThat(Float.floatToRawIntBits(sums.lane(lane[j]))).as("vector %d", j)
                        .isEqualTo(Float.floatToRawIntBits(Lanes.sum(v[j])));
            }
        }
    }
}
