package io.innerq.cache;

import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ReferenceKvCachesTests {

    private final KvCachePort port = new ReferenceKvCaches();
    private final CacheGeometry g = new CacheGeometry(1, 2, 1, 32);

    @Test
    void dispatchesOnTheMode() {
        assertThat(port.allocate(g, 10)).isInstanceOf(Fp32KvCache.class);
        assertThat(port.allocate(g, 10, KvMode.FP32)).isInstanceOf(Fp32KvCache.class);
        assertThat(port.allocate(g, 10, KvMode.FP16)).isInstanceOf(Fp16KvCache.class);
        assertThat(port.allocate(g, 10, KvMode.Q8_0)).isInstanceOf(Q8KvCache.class);
        assertThat(port.allocate(g, 10, KvMode.KIVI_4)).isInstanceOf(KiviKvCache.class);
        assertThat(port.allocate(g, 10, InnerqConfig.HYBRID)).isInstanceOf(InnerqKvCache.class);
    }

    @Test
    void rejectsAnEmptyCapacity() {
        for (KvMode mode : KvMode.all()) {
            assertThatThrownBy(() -> port.allocate(g, 0, mode)).hasMessageContaining("capacity");
        }
    }

    @Test
    void everyModeServesCapacitiesSmallerThanItsWindows() {
        float[] kv = new float[32];
        float[] q = new float[64];
        float[] out = new float[64];
        for (KvMode mode : KvMode.all()) {
            try (var cache = port.allocate(g, 3, mode)) {
                for (int pos = 0; pos < 3; pos++) {
                    kv[0] = pos;
                    cache.store(0, pos, kv, kv);
                    cache.attend(0, pos, q, out);
                    if (pos == 0) {
                        cache.endPrefill(1);
                    }
                }
                assertThat(out[0]).as("%s: the mean of 0, 1, 2", mode).isCloseTo(1f, within(1e-2f));
            }
        }
    }
}
