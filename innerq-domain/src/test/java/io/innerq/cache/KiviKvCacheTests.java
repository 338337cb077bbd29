package io.innerq.cache;

import io.innerq.port.out.KvCachePort.CacheGeometry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KiviKvCacheTests {

    private static final int R = KvMode.Kivi.RESIDUAL;
    private static final CacheGeometry GEOMETRY = new CacheGeometry(1, 2, 1, 32);

    private static KiviKvCache run(int prompt, int total, boolean checkDecode) {
        var cache = new KiviKvCache(GEOMETRY, total, KvMode.KIVI_2);
        var exact = new Fp32KvCache(GEOMETRY, total);
        var data = new KvCacheContractTests.Data(GEOMETRY, prompt);
        float[] out = new float[GEOMETRY.heads() * GEOMETRY.headDim()];
        float[] expected = out.clone();
        for (int pos = 0; pos < total; pos++) {
            data.next();
            cache.store(0, pos, data.k, data.v);
            exact.store(0, pos, data.k, data.v);
            cache.attend(0, pos, data.q, out);
            exact.attend(0, pos, data.q, expected);
            int n = pos + 1;
            if (n <= prompt) {
                assertThat(out).as("prefill attention is exact").containsExactly(expected);
            }
            if (n == prompt) {
                cache.endPrefill(prompt);
                // KIVI's prefill: keys of n - n % R tokens, values of all but the last R
                assertThat(cache.keyEnd(0)).isEqualTo(n < R ? 0 : n - n % R);
                assertThat(cache.valueEnd(0)).isEqualTo(Math.max(0, n - R));
            }
            if (checkDecode && n > prompt) {
                // KIVI's decode, flushing after each step's attention: 1..R keys and up to R + 1 values in fp32
                assertThat(cache.keyEnd(0)).as("keyEnd at n=%d", n).isEqualTo((n - 1) / R * R);
                assertThat(cache.valueEnd(0)).as("valueEnd at n=%d", n).isEqualTo(Math.max(0, n - R - 1));
                assertThat(n - cache.keyEnd(0)).isBetween(1, R);
            }
        }
        return cache;
    }

    @Test
    void promptShorterThanTheResidualStaysInFp32() {
        run(100, 100, false);
        run(100, 300, true); // keys flush at the stores of tokens 129 and 257; values from token 130 on
    }

    @Test
    void promptOfExactlyTheResidualQuantizesAllItsKeys() {
        var cache = run(R, R, false);
        assertThat(cache.keyEnd(0)).isEqualTo(R);
        assertThat(cache.valueEnd(0)).isZero();
        run(R, 2 * R + 5, true);
    }

    @Test
    void longPromptQuantizesWholeResidualBlocksOfKeys() {
        var cache = run(300, 300, false);
        assertThat(cache.keyEnd(0)).isEqualTo(256);
        assertThat(cache.valueEnd(0)).isEqualTo(172);
        run(300, 420, true);
    }

    @Test
    void bytesAfterAPromptFollowTheQuantizedRegions() {
        var cache = run(300, 300, false);
        int gv = KvMode.Kivi.valueGroup(32);
        long fp32 = (300 - 256) + (300 - 172);
        // per key group of 32 tokens: 2 words of 2-bit codes + fp16 scale + fp16 zero; per value group likewise
        long expected = fp32 * 32 * 4 + (256 / 32) * 32 * (2 * 4 + 4) + 172L * (32 / gv) * (2 * 4 + 4);
        assertThat(cache.bytesInUse()).isEqualTo(expected);
    }
}
