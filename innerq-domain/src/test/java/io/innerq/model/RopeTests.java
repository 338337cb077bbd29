package io.innerq.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RopeTests {

    private static LlamaConfig config(int headDim, RopeScaling scaling) {
        return new LlamaConfig("llama", headDim, 1, 1, 1, headDim, 4, 8, 1024, 1e-5f, 10000f, headDim, scaling);
    }

    @Test
    void rotatesAdjacentPairsByPositionTimesFrequency() {
        var rope = new Rope(config(4, new RopeScaling.None()), null);
        float[] x = {1, 0, 1, 0};
        rope.apply(x, 1, 4, 3);
        // pair 0: frequency 1, angle 3; pair 1: frequency 10000^(-1/2) = 0.01, angle 0.03
        assertThat(x[0]).isCloseTo((float) Math.cos(3), within(1e-6f));
        assertThat(x[1]).isCloseTo((float) Math.sin(3), within(1e-6f));
        assertThat(x[2]).isCloseTo((float) Math.cos(0.03), within(1e-6f));
        assertThat(x[3]).isCloseTo((float) Math.sin(0.03), within(1e-6f));
    }

    @Test
    void preservesNormsAndIsIdentityAtPositionZero() {
        var rope = new Rope(config(8, new RopeScaling.None()), null);
        float[] x = {0.3f, -1.2f, 2f, 0.5f, -0.7f, 0.1f, 1.5f, -2.2f};
        float[] y = x.clone();
        rope.apply(y, 1, 8, 0);
        assertThat(y).containsExactly(x);
        rope.apply(y, 1, 8, 117);
        double n0 = 0, n1 = 0;
        for (int i = 0; i < 8; i++) {
            n0 += x[i] * x[i];
            n1 += y[i] * y[i];
        }
        assertThat(n1).isCloseTo(n0, within(1e-5));
    }

    @Test
    void linearScalingDividesPositions() {
        var scaled = new Rope(config(4, new RopeScaling.Linear(4f)), null);
        var plain = new Rope(config(4, new RopeScaling.None()), null);
        float[] a = {1, 2, 3, 4};
        float[] b = a.clone();
        scaled.apply(a, 1, 4, 40);
        plain.apply(b, 1, 4, 10);
        assertThat(a).containsExactly(b, within(1e-6f));
    }

    @Test
    void llama3ScalingKeepsHighFrequenciesAndDividesLowOnes() {
        // Llama 3.1: factor 8, low 1, high 4, original context 8192; head_dim 128, base 500000.
        float[] f = new float[64];
        for (int i = 0; i < 64; i++) {
            f[i] = (float) Math.pow(500000, -2.0 * i / 128);
        }
        float[] scaled = f.clone();
        Rope.applyLlama3(scaled, new RopeScaling.Llama3(8f, 1f, 4f, 8192));
        assertThat(scaled[0]).isEqualTo(f[0]);                          // wavelength 2*pi < 2048: kept
        assertThat(scaled[63]).isCloseTo(f[63] / 8f, within(1e-12f));  // wavelength > 8192: divided
        int blended = 0;
        for (int i = 0; i < 64; i++) {
            double wavelen = 2 * Math.PI / f[i];
            if (wavelen >= 2048 && wavelen <= 8192) {
                blended++;
                assertThat(scaled[i]).isBetween(f[i] / 8f, f[i]);
            }
        }
        assertThat(blended).isPositive();
    }
}
