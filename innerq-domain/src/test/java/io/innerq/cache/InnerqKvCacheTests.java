package io.innerq.cache;

import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.GroupQuantizer;
import io.innerq.quant.QuantMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class InnerqKvCacheTests {

    // Small windows so that every case runs in a few dozen tokens: G = 8, S = 4, R = 8.
    private static final InnerqConfig SMALL = InnerqConfig.parse("innerq:k3,v3,g8,s4,r8,norm");
    private static final int S = 4;
    private static final int R = 8;
    private static final int G = 8;
    private static final CacheGeometry GEOMETRY = new CacheGeometry(2, 4, 2, 16);

    /** Values quantized: [S, valueEnd); the window keeps between R and R + G - 1 values once past S + R. */
    private static int expectedValueEnd(int n) {
        return n <= S ? S : S + Math.max(0, n - S - R) / G * G;
    }

    /** Keys quantized: [S, keyEnd); keys start leaving with the first value block, then keep exactly R. */
    private static int expectedKeyEnd(int n) {
        return n - S - R >= G ? n - R : S;
    }

    /** Runs a prompt of {@code prompt} tokens then decodes to {@code total}, checking the regions at every step. */
    private static void runAndCheckWindows(int prompt, int total) {
        var data = new KvCacheContractTests.Data(GEOMETRY, prompt);
        var cache = new InnerqKvCache(GEOMETRY, total, SMALL);
        var exact = new Fp32KvCache(GEOMETRY, total);
        float[] out = new float[GEOMETRY.heads() * GEOMETRY.headDim()];
        float[] expected = out.clone();
        for (int pos = 0; pos < total; pos++) {
            for (int l = 0; l < GEOMETRY.layers(); l++) {
                data.next();
                cache.store(l, pos, data.k, data.v);
                exact.store(l, pos, data.k, data.v);
                cache.attend(l, pos, data.q, out);
                exact.attend(l, pos, data.q, expected);
                if (pos < prompt) {
                    assertThat(cache.prefilling()).isTrue();
                    assertThat(out).as("prefill attention is exact").containsExactly(expected);
                }
            }
            int n = pos + 1;
            if (n == prompt) {
                cache.endPrefill(prompt);
            }
            if (n < prompt) {
                continue;
            }
            for (int l = 0; l < GEOMETRY.layers(); l++) {
                int keyEnd = cache.keyEnd(l);
                int valueEnd = cache.valueEnd(l);
                assertThat(keyEnd).as("keyEnd at n=%d (prompt %d)", n, prompt).isEqualTo(expectedKeyEnd(n));
                assertThat(valueEnd).as("valueEnd at n=%d (prompt %d)", n, prompt).isEqualTo(expectedValueEnd(n));
                int beyondSink = Math.max(0, n - S);
                int fullKeys = n > S ? n - keyEnd : 0;     // fp32 keys after the sink
                int fullValues = n > S ? n - valueEnd : 0;
                assertThat(fullKeys).as("recent keys in fp32 at n=%d", n).isGreaterThanOrEqualTo(Math.min(R, beyondSink));
                assertThat(fullValues).as("recent values in fp32 at n=%d", n).isGreaterThanOrEqualTo(Math.min(R, beyondSink))
                        .isLessThan(Math.max(R + G, beyondSink + 1));
                assertThat((valueEnd - S) % G).isZero();
                assertThat(valueEnd).isLessThanOrEqualTo(keyEnd);
            }
        }
    }

    @Test
    void promptShorterThanTheWindowsWaitsForTheFirstBlock() {
        runAndCheckWindows(6, 45); // first value block (and first keys) at n = S + R + G = 20
    }

    @Test
    void promptOfExactlySinkPlusRecent() {
        runAndCheckWindows(S + R, 40);
    }

    @Test
    void promptBetweenSinkPlusRecentAndOneBlockMoreKeepsItsMiddleInFp32() {
        runAndCheckWindows(S + R + 3, 40);
    }

    @Test
    void longPromptThenDecodeAcrossSeveralValueBlocks() {
        runAndCheckWindows(37, 90); // 28 values and 29 keys quantized at the prompt's end, 7 more blocks in decode
    }

    @Test
    void oneTokenPromptAndTinyCapacities() {
        runAndCheckWindows(1, 3);
        runAndCheckWindows(1, S + R + G + 1);
    }

    /**
     * Behaviour, not bookkeeping: with all keys zero, attention is the mean of the values. Values are -1 (exact at
     * any bit width: -2^(b-1) steps of max/2^(b-1)) except one probe token per channel holding 0.3, which 3 bits
     * cannot represent (steps of 0.25). The mean gives each probe back, exact iff its token is in fp32.
     */
    @Test
    void exactlyTheSinkAndTheWindowValuesAreInFullPrecision() {
        var g = new CacheGeometry(1, 1, 1, 16);
        int total = 70;
        var cache = new InnerqKvCache(g, total, SMALL);
        float[] k = new float[16];
        float[] v = new float[16];
        float[] q = new float[16];
        java.util.Arrays.fill(q, 1f);
        float[] out = new float[16];
        int prompt = 10;
        for (int pos = 0; pos < total; pos++) {
            for (int c = 0; c < 16; c++) {
                v[c] = pos == probe(c) ? 0.3f : -1f;
            }
            cache.store(0, pos, k, v);
            cache.attend(0, pos, q, out);
            int n = pos + 1;
            if (n == prompt) {
                cache.endPrefill(prompt);
            }
            for (int c = 0; c < 16; c++) {
                if (probe(c) >= n) {
                    continue;
                }
                float recovered = out[c] * n + (n - 1);
                boolean fullPrecision = prompt > pos || probe(c) < S || probe(c) >= cache.valueEnd(0);
                if (fullPrecision) {
                    assertThat(recovered).as("probe at token %d, n=%d", probe(c), n).isCloseTo(0.3f, within(2e-3f));
                } else {
                    assertThat(recovered).as("probe at token %d, n=%d", probe(c), n).isCloseTo(0.25f, within(2e-3f));
                }
            }
        }
        assertThat(cache.keyFactor(0, 0, 3)).as("all-zero keys: f guarded to 1").isEqualTo(1f);
    }

    private static int probe(int channel) {
        return 1 + 3 * channel + channel / 4; // tokens 1 .. 49: sink, quantized middle and window at various steps
    }

    @Test
    void normalizationFactorsComeFromTheKeysQuantizedAtTheEndOfALongPrompt() {
        int prompt = 40;
        var cache = new InnerqKvCache(GEOMETRY, 64, SMALL);
        var data = new KvCacheContractTests.Data(GEOMETRY, 3);
        float[][][] keys = new float[GEOMETRY.layers()][prompt][];
        float[] out = new float[GEOMETRY.heads() * GEOMETRY.headDim()];
        for (int pos = 0; pos < prompt; pos++) {
            for (int l = 0; l < GEOMETRY.layers(); l++) {
                data.next();
                if (pos == 20) {
                    data.k[5] = 1000f; // inside [S, prompt - R): counted
                }
                if (pos == prompt - 1) {
                    data.k[6] = 1000f; // in the recent window: not counted
                }
                keys[l][pos] = data.k.clone();
                cache.store(l, pos, data.k, data.v);
                cache.attend(l, pos, data.q, out);
            }
            assertThat(cache.keyFactor(0, 0, 5)).isEqualTo(1f);
        }
        cache.endPrefill(prompt);
        for (int l = 0; l < GEOMETRY.layers(); l++) {
            for (int kvh = 0; kvh < GEOMETRY.kvHeads(); kvh++) {
                for (int c = 0; c < GEOMETRY.headDim(); c++) {
                    float max = 0f;
                    for (int t = S; t < prompt - R; t++) {
                        max = Math.max(max, Math.abs(keys[l][t][kvh * GEOMETRY.headDim() + c]));
                    }
                    assertThat(cache.keyFactor(l, kvh, c)).isEqualTo((float) Math.sqrt(max));
                }
            }
        }
        assertThat(cache.keyFactor(0, 0, 5)).isEqualTo((float) Math.sqrt(1000f));
        assertThat(cache.keyFactor(0, 0, 6)).isLessThan(10f);
    }

    @Test
    void normalizationFactorsOfAShortPromptComeFromTheFirstFlushedBlock() {
        var cache = new InnerqKvCache(GEOMETRY, 64, SMALL);
        var data = new KvCacheContractTests.Data(GEOMETRY, 4);
        float[] out = new float[GEOMETRY.heads() * GEOMETRY.headDim()];
        float max = 0f;
        for (int pos = 0; pos < S + R + G; pos++) {
            for (int l = 0; l < GEOMETRY.layers(); l++) {
                data.next();
                if (l == 1 && pos >= S && pos < S + G) {
                    max = Math.max(max, Math.abs(data.k[GEOMETRY.headDim() + 2]));
                }
                cache.store(l, pos, data.k, data.v);
                cache.attend(l, pos, data.q, out);
            }
            if (pos == 2) {
                cache.endPrefill(3);
            }
            if (pos < S + R + G - 1) {
                assertThat(cache.keyFactor(1, 1, 2)).as("before the first flush").isEqualTo(1f);
            }
        }
        assertThat(cache.keyFactor(1, 1, 2)).isEqualTo((float) Math.sqrt(max));
    }

    /** q . k = (q * f) . (k / f): normalizing is exact; quantizing k / f errs by at most s_g * sum |q_c f_c| per group. */
    @Test
    void normalizationLeavesScoresUnchangedUpToQuantization() {
        var random = new SplittableRandom(9);
        int hd = 32;
        var quantizer = new GroupQuantizer(3, QuantMode.SYMMETRIC, hd);
        float[] f = new float[hd];
        for (int c = 0; c < hd; c++) {
            f[c] = (float) Math.sqrt(c % 8 == 3 ? 40 : 3);
        }
        float[] kn = new float[hd];
        int[] codes = new int[hd];
        for (int trial = 0; trial < 500; trial++) {
            double exact = 0;
            double folded = 0;
            double quantized = 0;
            double bound = 0;
            float[] q = new float[hd];
            for (int c = 0; c < hd; c++) {
                float k = (float) (random.nextGaussian() * (c % 8 == 3 ? 10 : 1));
                q[c] = (float) random.nextGaussian();
                kn[c] = k / f[c];
                exact += q[c] * k;
                folded += (q[c] * f[c]) * kn[c];
            }
            for (int g0 = 0; g0 < hd; g0 += 8) {
                short scale = quantizer.quantize(kn, g0, 8, codes, g0);
                for (int c = g0; c < g0 + 8; c++) {
                    quantized += (q[c] * f[c]) * GroupQuantizer.dequantize(codes[c], scale, (short) 0);
                    bound += GroupQuantizer.scale(scale) * Math.abs(q[c] * f[c]);
                }
            }
            assertThat(folded).isCloseTo(exact, within(1e-4 * (1 + Math.abs(exact))));
            assertThat(Math.abs(quantized - exact)).isLessThanOrEqualTo(bound + 1e-4);
        }
    }

    @Test
    void normalizationReducesKeyErrorOnOutlierChannels() {
        var scenario = new KvCacheContractTests.Scenario("outliers", new CacheGeometry(1, 4, 2, 128), 301, 200);
        var on = InnerqConfig.parse("innerq:k3,v8,norm");
        var off = InnerqConfig.parse("innerq:k3,v8,nonorm");
        double withNorm = KvCacheContractTests.compare(new ReferenceKvCaches(), on, new ReferenceKvCaches(), KvMode.FP32, scenario)[2];
        double without = KvCacheContractTests.compare(new ReferenceKvCaches(), off, new ReferenceKvCaches(), KvMode.FP32, scenario)[2];
        assertThat(withNorm).isLessThan(without);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"innerq:k3h,v3a,g8,s4,r8,norm", "innerq:k4a,v2h,g8,s4,r8,nonorm", "innerq:k8,v8,g8,s0,r0,norm",
            "innerq:k2,v4,g16,s3,r5,norm"})
    void customConfigurationsApproximateFp32AndAccountEveryZeroPoint(String spec) {
        var config = InnerqConfig.parse(spec);
        var scenario = new KvCacheContractTests.Scenario(spec, GEOMETRY, 77, 30);
        double[] errors = KvCacheContractTests.compare(new ReferenceKvCaches(), config, new ReferenceKvCaches(), KvMode.FP32, scenario);
        assertThat(errors[0]).isLessThanOrEqualTo(1e-6);
        assertThat(errors[2]).isLessThan(config.keyBits() == 8 ? 0.02 : 0.3);

        var cache = new InnerqKvCache(GEOMETRY, 77, config);
        var planner = new CapacityPlanner(GEOMETRY, config);
        var data = new KvCacheContractTests.Data(GEOMETRY, 5);
        float[] out = new float[GEOMETRY.heads() * GEOMETRY.headDim()];
        for (int pos = 0; pos < 77; pos++) {
            for (int l = 0; l < GEOMETRY.layers(); l++) {
                data.next();
                cache.store(l, pos, data.k, data.v);
                cache.attend(l, pos, data.q, out);
            }
            if (pos == 29) {
                cache.endPrefill(30);
            }
            if (pos >= 29) {
                long hybridZeros = 0;
                for (int l = 0; l < GEOMETRY.layers(); l++) {
                    hybridZeros += config.keyMode() == QuantMode.HYBRID ? cache.keyZeroPoints(l) : 0;
                    hybridZeros += config.valueMode() == QuantMode.HYBRID ? cache.valueZeroPoints(l) : 0;
                }
                assertThat(cache.bytesInUse()).isEqualTo(planner.bytesInUse(pos + 1) + 2 * hybridZeros);
            }
        }
        assertThat(cache.bytesReserved()).isEqualTo(planner.bytesReserved(77));
    }

    @Test
    void hybridValuesFlagShiftedGroupsAndStoreOnlyTheirZeroPoints() {
        var g = new CacheGeometry(1, 1, 1, 16);
        var cache = new InnerqKvCache(g, 60, InnerqConfig.parse("innerq:k3,v2h,g8,s4,r8,norm"));
        var random = new SplittableRandom(2);
        float[] k = new float[16];
        float[] v = new float[16];
        float[] out = new float[16];
        for (int pos = 0; pos < 60; pos++) {
            for (int c = 0; c < 16; c++) {
                k[c] = (float) random.nextGaussian();
                // even channels centred, odd channels shifted far from zero
                v[c] = (float) (c % 2 == 0 ? random.nextGaussian() * 0.1 : 5 + random.nextDouble());
            }
            cache.store(0, pos, k, v);
            cache.attend(0, pos, k, out);
            if (pos == 0) {
                cache.endPrefill(1);
            }
        }
        int blocks = (cache.valueEnd(0) - 4) / 8;
        assertThat(blocks).isEqualTo(6);
        int flagged = 0;
        for (int c = 0; c < 16; c++) {
            for (int b = 0; b < blocks; b++) {
                boolean asymmetric = GroupQuantizer.isAsymmetric(cache.valueScale(0, 0, c, b));
                if (c % 2 == 1) {
                    assertThat(asymmetric).as("shifted channel %d, block %d", c, b).isTrue();
                }
                flagged += asymmetric ? 1 : 0;
            }
        }
        // one zero point per flagged group, none for the others (nor for the symmetric keys)
        assertThat(cache.valueZeroPoints(0)).isEqualTo(flagged);
        assertThat(flagged).isLessThan(16 * blocks);
        assertThat(cache.keyZeroPoints(0)).isZero();
    }

    @Test
    void rejectsOutOfOrderStoresAndStaleAttention() {
        var cache = new InnerqKvCache(GEOMETRY, 10, SMALL);
        float[] kv = new float[GEOMETRY.kvDim()];
        float[] q = new float[GEOMETRY.heads() * GEOMETRY.headDim()];
        cache.store(0, 0, kv, kv);
        assertThatThrownBy(() -> cache.store(0, 2, kv, kv)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("expected position 1");
        assertThatThrownBy(() -> cache.attend(1, 0, q, q)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> cache.endPrefill(1)).hasMessageContaining("layer 1 holds 0 tokens");
        assertThatThrownBy(() -> cache.store(0, 10, kv, kv)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void rejectsAKeyGroupThatDoesNotDivideHeadDim() {
        assertThatThrownBy(() -> new InnerqKvCache(new CacheGeometry(1, 1, 1, 48), 10, InnerqConfig.BASE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("innerq-base").hasMessageContaining("head_dim 48");
    }
}
