package io.innerq.quant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class GroupQuantizerTests {

    private static final int N = 32;

    /** fp32 slack of the reconstruction (one x/s division, one s*c+z): a few ulps of the group's magnitude. */
    private static float slack(float[] x) {
        float m = 0f;
        for (float v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return 4 * Math.ulp(m);
    }

    private static float[] group(SplittableRandom random, float centre, float spread) {
        float[] x = new float[N];
        for (int i = 0; i < N; i++) {
            x[i] = centre + (float) random.nextGaussian() * spread;
        }
        return x;
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void symmetricErrsAtMostHalfAStepExceptTheClampedTopLevel(int bits) {
        var random = new SplittableRandom(bits);
        int half = 1 << (bits - 1);
        int[] codes = new int[N];
        for (int trial = 0; trial < 2000; trial++) {
            float[] x = group(random, 0f, (float) Math.pow(10, random.nextInt(-4, 4)));
            short sb = GroupQuantizer.symmetric(x, 0, N, bits, codes, 0);
            assertThat(GroupQuantizer.isAsymmetric(sb)).isFalse();
            float s = GroupQuantizer.scale(sb);
            float amax = 0f;
            for (float v : x) {
                amax = Math.max(amax, Math.abs(v));
            }
            // the scale as stored: the smallest fp16 >= max|x| / 2^(b-1), so no element needs more than 2^(b-1) steps
            assertThat(s).isEqualTo(Fp16.toFloat(Fp16.ceil(amax / half)));
            for (int i = 0; i < N; i++) {
                assertThat(codes[i]).isBetween(-half, half - 1);
                float err = Math.abs(x[i] - s * codes[i]);
                float bound = x[i] > (half - 0.5f) * s ? s : s / 2;
                assertThat(err).as("x=%s s=%s c=%d", x[i], s, codes[i]).isLessThanOrEqualTo(bound + slack(x));
            }
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void asymmetricErrsAtMostHalfAStep(int bits) {
        var random = new SplittableRandom(10 + bits);
        int[] codes = new int[N];
        for (int trial = 0; trial < 2000; trial++) {
            float[] x = group(random, (float) random.nextGaussian() * 5, (float) Math.pow(10, random.nextInt(-3, 3)));
            int packed = GroupQuantizer.asymmetric(x, 0, N, bits, codes, 0);
            short sb = (short) packed;
            short zb = (short) (packed >>> 16);
            assertThat(GroupQuantizer.isAsymmetric(sb)).isTrue();
            float s = GroupQuantizer.scale(sb);
            float z = Fp16.toFloat(zb);
            float min = Float.POSITIVE_INFINITY;
            for (float v : x) {
                min = Math.min(min, v);
            }
            assertThat(z).isLessThanOrEqualTo(min).isEqualTo(Fp16.toFloat(Fp16.floor(min)));
            for (int i = 0; i < N; i++) {
                assertThat(codes[i]).isBetween(0, (1 << bits) - 1);
                float err = Math.abs(x[i] - GroupQuantizer.dequantize(codes[i], sb, zb));
                assertThat(err).as("x=%s s=%s z=%s c=%d", x[i], s, z, codes[i]).isLessThanOrEqualTo(s / 2 + slack(x));
            }
        }
    }

    @Test
    void zeroAndConstantGroupsHaveScaleZero() {
        int[] codes = new int[N];
        java.util.Arrays.fill(codes, 7);
        assertThat(GroupQuantizer.symmetric(new float[N], 0, N, 3, codes, 0)).isZero();
        assertThat(codes).containsOnly(0);

        float[] constant = new float[N];
        java.util.Arrays.fill(constant, 2.5f);
        int packed = GroupQuantizer.asymmetric(constant, 0, N, 2, codes, 0);
        assertThat((short) packed).isEqualTo(GroupQuantizer.ASYMMETRIC_FLAG); // -0.0: flagged, scale 0
        assertThat(Fp16.toFloat((short) (packed >>> 16))).isEqualTo(2.5f);
        assertThat(codes).containsOnly(0);

        // hybrid keeps the exact asymmetric form of a constant group; symmetric would clamp 2.5 to 3/4 of its range
        var q = new GroupQuantizer(2, QuantMode.HYBRID, N);
        short sb = q.quantize(constant, 0, N, codes, 0);
        assertThat(GroupQuantizer.isAsymmetric(sb)).isTrue();
        assertThat(GroupQuantizer.dequantize(codes[0], sb, q.zeroPoint())).isEqualTo(2.5f);
    }

    @Test
    void roundsHalfAwayFromZero() {
        assertThat(GroupQuantizer.round(0.5f)).isEqualTo(1);
        assertThat(GroupQuantizer.round(-0.5f)).isEqualTo(-1);
        assertThat(GroupQuantizer.round(2.5f)).isEqualTo(3);
        assertThat(GroupQuantizer.round(-2.5f)).isEqualTo(-3);
        assertThat(GroupQuantizer.round(0.49999997f)).isZero();
        assertThat(GroupQuantizer.round(-1.4999999f)).isEqualTo(-1);
    }

    @Test
    void hybridPicksAsymmetricForAShiftedGroupAndSymmetricForACentredOne() {
        var q = new GroupQuantizer(2, QuantMode.HYBRID, N);
        int[] codes = new int[N];
        float[] shifted = new float[N];
        float[] centred = new float[N];
        for (int i = 0; i < N; i++) {
            shifted[i] = 2f + i / (float) (N - 1);                    // uniform over [2, 3]
            centred[i] = (i % 2 == 0 ? 1 : -1) * 0.02f * (i % 5);    // mostly near 0 ...
        }
        centred[0] = -1f;                                             // ... range [-1, 0.5]
        centred[1] = 0.5f;
        assertThat(GroupQuantizer.isAsymmetric(q.quantize(shifted, 0, N, codes, 0))).isTrue();
        assertThat(GroupQuantizer.isAsymmetric(q.quantize(centred, 0, N, codes, 0))).isFalse();
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void hybridIsNeverWorseThanEitherAndFlagsExactlyItsAsymmetricGroups(int bits) {
        var random = new SplittableRandom(20 + bits);
        var hybrid = new GroupQuantizer(bits, QuantMode.HYBRID, N);
        int[] codes = new int[N];
        int[] sym = new int[N];
        int[] asym = new int[N];
        int flagged = 0;
        for (int trial = 0; trial < 2000; trial++) {
            float[] x = group(random, (float) random.nextGaussian(), (float) random.nextDouble() * 2);
            short sb = hybrid.quantize(x, 0, N, codes, 0);
            float e = GroupQuantizer.l1Error(x, 0, N, codes, 0, sb, hybrid.zeroPoint());
            short ss = GroupQuantizer.symmetric(x, 0, N, bits, sym, 0);
            int pa = GroupQuantizer.asymmetric(x, 0, N, bits, asym, 0);
            float es = GroupQuantizer.l1Error(x, 0, N, sym, 0, ss, (short) 0);
            float ea = GroupQuantizer.l1Error(x, 0, N, asym, 0, (short) pa, (short) (pa >>> 16));
            assertThat(e).isEqualTo(Math.min(es, ea));
            assertThat(GroupQuantizer.isAsymmetric(sb)).isEqualTo(ea < es);
            if (GroupQuantizer.isAsymmetric(sb)) {
                flagged++;
                assertThat(hybrid.zeroPoint()).isEqualTo((short) (pa >>> 16));
                assertThat(codes).containsExactly(asym);
            } else {
                assertThat(sb).isEqualTo(ss);
                assertThat(codes).containsExactly(sym);
            }
        }
        assertThat(flagged).isBetween(1, 1999); // both kinds occur on this data
    }

    @Test
    void theFlagIsTheScaleSignBitAndLeavesTheMagnitude() {
        var q = new GroupQuantizer(3, QuantMode.ASYMMETRIC, N);
        float[] x = new float[N];
        for (int i = 0; i < N; i++) {
            x[i] = 1f + i * 0.25f;
        }
        short sb = q.quantize(x, 0, N, new int[N], 0);
        assertThat(sb & 0x8000).isEqualTo(0x8000);
        assertThat(Float.float16ToFloat(sb)).isNegative();
        assertThat(GroupQuantizer.scale(sb)).isEqualTo(-Float.float16ToFloat(sb)).isPositive();
        assertThat(Fp16.toFloat(q.zeroPoint())).isEqualTo(1f);
        // a symmetric group's scale is >= 0, so the zero-point slot is never read for it
        short ss = new GroupQuantizer(3, QuantMode.SYMMETRIC, N).quantize(x, 0, N, new int[N], 0);
        assertThat(GroupQuantizer.isAsymmetric(ss)).isFalse();
        assertThat(GroupQuantizer.dequantize(2, ss, (short) 0x7BFF)).isEqualTo(2 * GroupQuantizer.scale(ss));
    }
}
