package io.innerq.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Softmax}'s exp: within 1 ulp of {@link Math#exp}, the same bits in vector lanes and in the scalar tail. */
class SoftmaxTests {

    @Test
    void expIsWithinOneUlpOfTheCorrectlyRoundedValue() {
        for (float x = 0f; x >= -87.3f; x -= 1.37e-4f) {
            float expected = (float) Math.exp(x); // double exp rounded to float
            int ulps = Math.abs(Float.floatToIntBits(Softmax.exp(x)) - Float.floatToIntBits(expected));
            assertThat(ulps).as("ulps from exp(%s)", x).isLessThanOrEqualTo(1);
        }
        assertThat(Softmax.exp(0f)).isEqualTo(1f);
        assertThat(Softmax.exp(Float.NEGATIVE_INFINITY)).isZero();
        assertThat(Softmax.exp(-100f)).isZero(); // below Float.MIN_NORMAL
        assertThat(Softmax.exp(Float.NaN)).isNaN();
    }

    @Test
    void vectorLanesAndScalarTailGiveTheSameBits() {
        var random = new SplittableRandom(7);
        int n = 8 * 500 + 5; // a tail of 5
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = (float) (random.nextGaussian() * 20);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float x : s) {
            max = Math.max(max, x);
        }
        float[] e = s.clone();
        Softmax.exponentiate(e, 0, n);
        for (int i = 0; i < n; i++) {
            assertThat(Float.floatToRawIntBits(e[i])).as("score %d", i)
                    .isEqualTo(Float.floatToRawIntBits(Softmax.exp(s[i] - max)));
        }
    }
}
