package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.GroupQuantizer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** fp16 and q8_0 compute exact attention over their definitions' reconstructions. */
class BaselineKvCacheTests {

    private static final int TOKENS = 50;

    /** Attention of a cache against fp32 attention over {@code rounding} applied to every stored K and V. */
    private static void check(CacheGeometry g, KvCache cache, java.util.function.UnaryOperator<float[]> rounding,
                              float tolerance) {
        var reference = new Fp32KvCache(g, TOKENS);
        var random = new SplittableRandom(g.headDim());
        float[] k = new float[g.kvDim()];
        float[] v = new float[g.kvDim()];
        float[] q = new float[g.heads() * g.headDim()];
        float[] out = q.clone();
        float[] expected = q.clone();
        for (int pos = 0; pos < TOKENS; pos++) {
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) (random.nextGaussian() * (i % 7 == 0 ? 20 : 1));
                v[i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) random.nextGaussian();
            }
            cache.store(0, pos, k, v);
            reference.store(0, pos, rounding.apply(k.clone()), rounding.apply(v.clone()));
            cache.attend(0, pos, q, out);
            reference.attend(0, pos, q, expected);
            assertThat(out).containsExactly(expected, within(tolerance));
        }
        assertThat(cache.bytesInUse()).isEqualTo(new CapacityPlanner(g, cacheMode(cache)).bytesInUse(TOKENS));
    }

    private static KvMode cacheMode(KvCache cache) {
        return cache instanceof Q8KvCache ? KvMode.Q8_0 : KvMode.FP16;
    }

    @Test
    void fp16IsFp32AttentionOverFp16RoundedKeysAndValues() {
        var g = new CacheGeometry(1, 4, 2, 64);
        check(g, new Fp16KvCache(g, TOKENS), x -> {
            for (int i = 0; i < x.length; i++) {
                x[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
            }
            return x;
        }, 0f);
    }

    /** ggml's quantize_row_q8_0_ref: d = amax / 127, id = 1/d, q = roundf(x * id), d stored as fp16. */
    private static float[] q8(float[] x, int group) {
        for (int b = 0; b < x.length; b += group) {
            float amax = 0f;
            for (int i = b; i < b + group; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1 / d : 0;
            float dStored = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int i = b; i < b + group; i++) {
                x[i] = dStored * GroupQuantizer.round(x[i] * id);
            }
        }
        return x;
    }

    @Test
    void q80IsFp32AttentionOverLlamaCppQ80Blocks() {
        var g = new CacheGeometry(1, 4, 2, 64);
        check(g, new Q8KvCache(g, TOKENS), x -> q8(x, 32), 1e-5f); // the cache applies d once per group
    }

    @Test
    void q80UsesOneGroupPerHeadBelowHeadDim32() {
        var g = new CacheGeometry(1, 2, 2, 8);
        assertThat(KvMode.Q8.group(8)).isEqualTo(8);
        check(g, new Q8KvCache(g, TOKENS), x -> q8(x, 8), 1e-5f);
    }

    @Test
    void fp32CountsTheTokensItHolds() {
        var g = new CacheGeometry(2, 2, 1, 8);
        var cache = new Fp32KvCache(g, 10);
        float[] kv = new float[8];
        assertThat(cache.bytesInUse()).isZero();
        cache.store(0, 0, kv, kv);
        cache.store(1, 0, kv, kv);
        cache.store(0, 1, kv, kv);
        assertThat(cache.bytesInUse()).isEqualTo(3 * 2 * 8 * 4);
        assertThat(cache.bytesReserved()).isEqualTo(2 * 10 * 2 * 8 * 4);
    }
}
