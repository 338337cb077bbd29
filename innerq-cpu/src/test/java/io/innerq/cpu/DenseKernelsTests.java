package io.innerq.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The fp32 kernels and the softmax agree with plain loops: every head_dim tail (not a multiple of 8 or 16), blocks of
 * 1 to 4 heads (a short block must leave the rows of other heads alone), odd token counts.
 */
class DenseKernelsTests {

    static List<Arguments> shapes() {
        List<Arguments> shapes = new ArrayList<>();
        for (int hd : new int[] {4, 8, 12, 16, 24, 64, 128}) {
            for (int nb = 1; nb <= 4; nb++) {
                for (int tokens : new int[] {0, 1, 2, 3, 65, 130}) {
                    shapes.add(Arguments.of(hd, nb, tokens));
                }
            }
        }
        return shapes;
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest(name = "head_dim {0}, {1} heads, {2} tokens")
    @MethodSource("shapes")
    void scoresAndValuesMatchPlainLoops(int hd, int nb, int tokens) {
        var r = new SplittableRandom(hd * 100L + nb * 10L + tokens);
        int stride = hd + 5;              // rows with a gap, as in [token][kvHead][channel]
        int base = 3;
        int sStride = tokens + 7;         // score rows of 4 heads, one extra row to catch stray writes
        float[] k = random(r, base + Math.max(1, tokens) * stride);
        float[] v = random(r, base + Math.max(1, tokens) * stride);
        float[] q = random(r, 5 * hd);
        float[] s = new float[5 * sStride];
        float scale = 0.3f;
        DenseKernels.scores(k, base, stride, tokens, hd, q, hd, hd, s, sStride, sStride, nb, scale);
        float[] out = random(r, 6 * hd);
        float[] before = out.clone();
        float[] p = random(r, 5 * sStride);
        DenseKernels.values(v, base, stride, tokens, hd, p, sStride, sStride, out, hd, hd, nb);
        for (int j = 0; j < 4; j++) {
            for (int i = 0; i < tokens; i++) {
                double dot = 0;
                for (int c = 0; c < hd; c++) {
                    dot += (double) q[(1 + j) * hd + c] * k[base + i * stride + c];
                }
                float expected = j < nb ? (float) (dot * scale) : 0f;
                assertThat(s[(1 + j) * sStride + i]).as("score head %d token %d", j, i).isCloseTo(expected, within(1e-4f));
            }
            for (int c = 0; c < hd; c++) {
                double acc = before[(1 + j) * hd + c];
                if (j < nb) {
                    for (int i = 0; i < tokens; i++) {
                        acc += (double) p[(1 + j) * sStride + i] * v[base + i * stride + c];
                    }
                }
                assertThat(out[(1 + j) * hd + c]).as("out head %d channel %d", j, c).isCloseTo((float) acc, within(1e-4f));
            }
        }
        for (int i = 0; i < sStride; i++) { // rows outside the block untouched
            assertThat(s[i]).isZero();
        }
        for (int c = 0; c < hd; c++) {
            assertThat(out[c]).isEqualTo(before[c]);
            assertThat(out[5 * hd + c]).isEqualTo(before[5 * hd + c]);
        }
    }

    @ParameterizedTest(name = "{0} scores")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 7, 8, 9, 100, 1027})
    void softmaxIsExact(int n) {
        var r = new SplittableRandom(n);
        float[] s = new float[n + 4];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (r.nextGaussian() * 4);
        }
        float[] x = s.clone();
        float sum = Softmax.exponentiate(x, 2, n);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 2; i < 2 + n; i++) {
            max = Math.max(max, s[i]);
        }
        double expectedSum = 0;
        for (int i = 2; i < 2 + n; i++) {
            double e = Math.exp(s[i] - max);
            expectedSum += e;
            assertThat((double) x[i]).isCloseTo(e, within(2e-7 * Math.max(1, e)));
        }
        assertThat((double) sum).isCloseTo(expectedSum, within(1e-6 * expectedSum));
        assertThat(x[0]).isEqualTo(s[0]);
        assertThat(x[n + 2]).isEqualTo(s[n + 2]);
    }
}
