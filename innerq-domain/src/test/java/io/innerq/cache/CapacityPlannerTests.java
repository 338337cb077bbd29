package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CapacityPlannerTests {

    private static final CacheGeometry LLAMA_1B = new CacheGeometry(16, 32, 8, 64);

    @Test
    void fp32FitsBudgetOverBytesPerToken() {
        var plan = new CapacityPlanner(LLAMA_1B, KvMode.FP32);
        long perToken = 2L * 16 * 8 * 64 * 4;
        assertThat(plan.bytesInUse(1000)).isEqualTo(1000 * perToken);
        assertThat(plan.tokensThatFit(1000 * perToken + perToken - 1)).isEqualTo(1000);
        assertThat(plan.tokensThatFit(perToken - 1)).isZero();
        assertThat(plan.bitsPerElement(7)).isEqualTo(32);
    }

    @Test
    void innerqApproachesItsNominalBitsAsWindowsAmortize() {
        var plan = new CapacityPlanner(LLAMA_1B, InnerqConfig.BASE);
        assertThat(plan.bitsPerElement(128)).isEqualTo(32); // all in the windows
        assertThat(plan.bitsPerElement(100_000)).isBetween(3.5, 3.6);
        assertThat(plan.bitsPerElement(4096)).isBetween(4.0, 4.5);
        // hybrid: between its nominal 3.0 and 3.0 + one zero point per value group
        var hybrid = new CapacityPlanner(LLAMA_1B, InnerqConfig.HYBRID);
        assertThat(hybrid.maxBytesInUse(10_000) - hybrid.bytesInUse(10_000))
                .isEqualTo(16L * 8 * 64 * ((10_000 - 32 - 96) / 32) * 2);
    }

    @Test
    void tokensThatFitNeverExceedTheBudgetOnTheWay() {
        var g = new CacheGeometry(1, 2, 1, 16);
        var config = InnerqConfig.parse("innerq:k3,v2h,g8,s4,r8,norm");
        var plan = new CapacityPlanner(g, config);
        for (long budget : new long[] {1000, 2500, 4000, 9000}) {
            int n = plan.tokensThatFit(budget);
            assertThat(n).isPositive();
            try (KvCache cache = new ReferenceKvCaches().allocate(g, n + 1, config)) {
                var data = new KvCacheContractTests.Data(g, budget);
                float[] out = new float[32];
                long peak = 0;
                for (int pos = 0; pos <= n; pos++) {
                    data.next();
                    cache.store(0, pos, data.k, data.v);
                    cache.attend(0, pos, data.q, out);
                    if (pos == 0) {
                        cache.endPrefill(1);
                    }
                    if (pos < n) {
                        peak = Math.max(peak, cache.bytesInUse());
                    }
                }
                assertThat(peak).as("bytes on the way to %d tokens", n).isLessThanOrEqualTo(budget);
                // one token more would cross the budget somewhere (at worst, with every hybrid zero point)
                long worst = 0;
                for (int m = 1; m <= n + 1; m++) {
                    worst = Math.max(worst, plan.maxBytesInUse(m));
                }
                assertThat(worst).isGreaterThan(budget);
            }
        }
    }

    @Test
    void reservedBytesMatchWhatTheReferenceAllocates() {
        var caches = new ReferenceKvCaches();
        for (var g : new CacheGeometry[] {new CacheGeometry(2, 4, 2, 128), new CacheGeometry(2, 8, 4, 8)}) {
            for (KvMode mode : KvMode.all()) {
                for (int capacity : new int[] {1, 31, 100, 161, 300}) {
                    KvCache cache = caches.allocate(g, capacity, mode);
                    float[] kv = new float[g.kvDim()];
                    float[] q = new float[g.heads() * g.headDim()];
                    for (int l = 0; l < g.layers(); l++) {
                        cache.store(l, 0, kv, kv);
                        cache.attend(l, 0, q, q);
                    }
                    cache.endPrefill(1);
                    long reserved = switch (cache) {
                        case Fp32KvCache c -> c.bytesReserved();
                        case Fp16KvCache c -> c.bytesReserved();
                        case Q8KvCache c -> c.bytesReserved();
                        case KiviKvCache c -> c.bytesReserved();
                        case InnerqKvCache c -> c.bytesReserved();
                        default -> throw new AssertionError(cache.getClass());
                    };
                    assertThat(reserved).as("%s, capacity %d, %s", mode, capacity, g)
                            .isEqualTo(new CapacityPlanner(g, mode).bytesReserved(capacity));
                }
            }
        }
    }

    @Test
    void promptsRunInFp32ForModesWithExactPrefill() {
        var g = new CacheGeometry(1, 2, 1, 32);
        for (KvMode mode : KvMode.all()) {
            try (KvCache cache = new ReferenceKvCaches().allocate(g, 200, mode)) {
                var data = new KvCacheContractTests.Data(g, 1);
                float[] out = new float[64];
                for (int pos = 0; pos < 170; pos++) {
                    data.next();
                    cache.store(0, pos, data.k, data.v);
                    cache.attend(0, pos, data.q, out);
                }
                var plan = new CapacityPlanner(g, mode);
                assertThat(cache.bytesInUse()).as("%s while the prompt runs", mode).isEqualTo(plan.bytesDuringPrefill(170));
                cache.endPrefill(170);
                assertThat(cache.bytesInUse()).as("%s after the prompt", mode).isLessThanOrEqualTo(plan.bytesDuringPrefill(170));
            }
        }
    }

    @Test
    void rejectsAModeTheGeometryCannotServe() {
        assertThatThrownBy(() -> new CapacityPlanner(new CacheGeometry(1, 1, 1, 48), InnerqConfig.BASE))
                .hasMessageContaining("head_dim 48");
        assertThatThrownBy(() -> new CapacityPlanner(new CacheGeometry(1, 1, 1, 48), KvMode.Q8_0))
                .hasMessageContaining("q8_0");
    }
}
