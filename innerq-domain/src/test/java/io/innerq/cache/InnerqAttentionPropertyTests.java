package io.innerq.cache;

import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.BitPacking;
import io.innerq.quant.GroupQuantizer;
import io.innerq.quant.QuantMode;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Attention that reads the packed cache in place equals exact attention over the keys and values the cache stores,
 * dequantized: for random configurations, geometries, prompt lengths and decode lengths (try t uses seed t, named in
 * a failure's message), at every decode step.
 */
class InnerqAttentionPropertyTests {

    private static InnerqConfig config(SplittableRandom r) {
        int[] bits = {2, 3, 4, 8};
        QuantMode[] modes = QuantMode.values();
        return new InnerqConfig(bits[r.nextInt(4)], bits[r.nextInt(4)], modes[r.nextInt(modes.length)],
                modes[r.nextInt(modes.length)], r.nextBoolean() ? 4 : 8, r.nextInt(5), r.nextInt(9), r.nextBoolean());
    }

    private static CacheGeometry geometry(SplittableRandom r) {
        int kvHeads = r.nextInt(1, 3);
        int perKv = r.nextInt(1, 3);
        return new CacheGeometry(1, kvHeads * perKv, kvHeads, new int[]{4, 8, 16}[r.nextInt(3)]);
    }

    @Test
    void attentionOnPackedDataEqualsExactAttentionOnItsDequantizedData() {
        for (int t = 0; t < 200; t++) {
            var r = new SplittableRandom(t);
            check(config(r), geometry(r), r.nextInt(1, 41), r.nextInt(31), r.nextLong(), t);
        }
    }

    private static void check(InnerqConfig config, CacheGeometry g, int prompt, int decode, long seed, int trial) {
        int total = prompt + decode;
        var random = new SplittableRandom(seed);
        var cache = new InnerqKvCache(g, total, config);
        float[] k = new float[g.kvDim()];
        float[] v = new float[g.kvDim()];
        float[] q = new float[g.heads() * g.headDim()];
        float[] out = new float[q.length];
        float[] expected = new float[q.length];
        int checked = 0;
        for (int pos = 0; pos < total; pos++) {
            fill(random, k, g.headDim());
            fill(random, v, g.headDim());
            fill(random, q, g.headDim());
            cache.store(0, pos, k, v);
            if (pos + 1 == prompt) {
                cache.endPrefill(prompt);
            }
            if (cache.prefilling()) {
                continue;
            }
            cache.attend(0, pos, q, out);
            var stored = dequantized(cache, g, pos + 1);
            var exact = new Fp32KvCache(g, pos + 1);
            float vmax = 0f;
            for (int t = 0; t <= pos; t++) {
                float[] kt = java.util.Arrays.copyOfRange(stored.keys, t * g.kvDim(), (t + 1) * g.kvDim());
                float[] vt = java.util.Arrays.copyOfRange(stored.values, t * g.kvDim(), (t + 1) * g.kvDim());
                exact.store(0, t, kt, vt);
                for (float x : vt) {
                    vmax = Math.max(vmax, Math.abs(x));
                }
            }
            exact.attend(0, pos, q, expected);
            for (int i = 0; i < out.length; i++) {
                assertThat(out[i]).as("try %d (%s), pos %d, element %d", trial, config.name(), pos, i).isCloseTo(expected[i],
                        org.assertj.core.api.Assertions.within(2e-5f * (1 + vmax)));
            }
            checked++;
        }
        assertThat(checked).isEqualTo(decode + 1);
    }

    /** Gaussian entries; every fifth channel of a head ten times larger (outlier channels, as real keys have). */
    private static void fill(SplittableRandom random, float[] x, int hd) {
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian() * (i % hd % 5 == 0 ? 10 : 1);
        }
    }

    /** What {@code cache} stores for positions [0, n) of layer 0, read back from its layout and dequantized. */
    private static Stored dequantized(InnerqKvCache cache, CacheGeometry g, int n) {
        InnerqConfig c = cache.config();
        int hd = g.headDim();
        int s = c.sink();
        int gk = c.keyGroupSize(hd);
        int kGroups = hd / gk;
        int kWords = BitPacking.words(c.keyBits(), gk);
        int vGroup = c.groupSize();
        int vWords = BitPacking.words(c.valueBits(), vGroup);
        int keyEnd = cache.keyEnd(0);
        int valueEnd = cache.valueEnd(0);
        int ring = cache.windowSlots();
        float[] f = cache.keyFactors(0);
        var exact = new Stored(new float[n * g.kvDim()], new float[n * g.kvDim()]);
        int[] codes = new int[Math.max(gk, vGroup)];
        for (int kvh = 0; kvh < g.kvHeads(); kvh++) {
            for (int t = 0; t < n; t++) {
                int o = t * g.kvDim() + kvh * hd;
                if (t < s) {
                    System.arraycopy(cache.sinkKeys(0), (kvh * cache.sinkSlots() + t) * hd, exact.keys, o, hd);
                } else if (t < keyEnd) {
                    int groupBase = (kvh * cache.keyTokenSlots() + t - s) * kGroups;
                    int rank = 0;
                    for (int kg = 0; kg < kGroups; kg++) {
                        short scale = cache.keyScales(0)[groupBase + kg];
                        boolean asym = GroupQuantizer.isAsymmetric(scale);
                        short zero = asym ? cache.keyZeros(0)[groupBase + rank++] : 0;
                        BitPacking.unpack(cache.keyCodes(0), (groupBase + kg) * kWords, c.keyBits(), !asym, codes, 0, gk);
                        for (int i = 0; i < gk; i++) {
                            int ch = kg * gk + i;
                            float factor = c.keyNormalization() ? f[kvh * hd + ch] : 1f;
                            exact.keys[o + ch] = GroupQuantizer.dequantize(codes[i], scale, zero) * factor;
                        }
                    }
                } else {
                    System.arraycopy(cache.windowKeys(0), (kvh * ring + (t - s) % ring) * hd, exact.keys, o, hd);
                }
                if (t < s) {
                    System.arraycopy(cache.sinkValues(0), (kvh * cache.sinkSlots() + t) * hd, exact.values, o, hd);
                } else if (t >= valueEnd) {
                    System.arraycopy(cache.windowValues(0), (kvh * ring + (t - s) % ring) * hd, exact.values, o, hd);
                }
            }
            for (int b = 0; b < (valueEnd - Math.min(s, n)) / vGroup; b++) {
                int rank = 0;
                for (int ch = 0; ch < hd; ch++) {
                    int group = (kvh * hd + ch) * cache.valueBlockSlots() + b;
                    short scale = cache.valueScales(0)[group];
                    boolean asym = GroupQuantizer.isAsymmetric(scale);
                    short zero = asym ? cache.valueZeros(0)[(kvh * cache.valueBlockSlots() + b) * hd + rank++] : 0;
                    BitPacking.unpack(cache.valueCodes(0), group * vWords, c.valueBits(), !asym, codes, 0, vGroup);
                    for (int i = 0; i < vGroup; i++) {
                        int t = s + b * vGroup + i;
                        exact.values[t * g.kvDim() + kvh * hd + ch] = GroupQuantizer.dequantize(codes[i], scale, zero);
                    }
                }
            }
        }
        return exact;
    }

    /** Keys and values, fp32 {@code [token][kvHead][channel]}. */
    private record Stored(float[] keys, float[] values) {
    }
}
