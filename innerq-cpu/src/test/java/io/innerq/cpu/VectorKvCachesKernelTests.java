package io.innerq.cpu;

import io.innerq.cache.KvMode;
import io.innerq.cache.ReferenceKvCaches;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every packed-code kernel against the reference caches, whose attention reads the same codes through the scalar
 * {@code BitPacking.dot}: every code width for keys and values, symmetric, asymmetric and hybrid groups, the unrolled
 * kernels (groups of 32 codes of 2-4 bits) and the general ones (8-bit codes; groups of 8, 16, 64; groups of 4, which
 * end in a scalar tail; head_dim 8 and 12, whose key groups are the whole head), sequence lengths that are not a
 * multiple of G, and blocks of 1 to 4 query heads per KV head (7 = 4 + 3; groups of 1 and 2, whose packed kernels
 * are kernels of their own), on the caller alone and split over 3 threads.
 *
 * <p>Bound: the relative RMS error of every attend call (as in the contract suite) at most {@value #TOLERANCE}.
 * Largest measured: 8.7e-7 (innerq:k4h,v3h); the contract suite's same-mode bound is 1e-4.
 */
class VectorKvCachesKernelTests {

    private static final double TOLERANCE = 1e-5;

    static List<Arguments> cases() {
        CacheGeometry gqa4 = new CacheGeometry(1, 8, 2, 64);
        CacheGeometry hd8 = new CacheGeometry(2, 8, 4, 8);
        CacheGeometry hd12 = new CacheGeometry(1, 2, 1, 12);
        CacheGeometry mha = new CacheGeometry(1, 3, 3, 32);
        CacheGeometry gqa7 = new CacheGeometry(1, 7, 1, 16);
        CacheGeometry gqa8 = new CacheGeometry(1, 16, 2, 128);
        CacheGeometry gqa2 = new CacheGeometry(1, 8, 4, 64);
        return List.of(
                Arguments.of("innerq:k2,v2,g32,s8,r16", gqa4, 203, 40),
                Arguments.of("innerq:k3,v3,g32,s8,r16", gqa4, 203, 40),
                Arguments.of("innerq:k4,v4,g32,s8,r16", gqa4, 203, 7),
                Arguments.of("innerq:k8,v8,g32,s8,r16", gqa4, 203, 40),
                Arguments.of("innerq:k3a,v3a,g32,s8,r16", gqa4, 203, 40),
                Arguments.of("innerq:k2h,v2h,g32,s8,r16", gqa4, 203, 40),
                Arguments.of("innerq:k4h,v3h,g32,s4,r8,nonorm", gqa4, 150, 3),
                Arguments.of("innerq:k8a,v8h,g16,s4,r8", gqa4, 150, 30),
                Arguments.of("innerq:k3,v2h,g8,s4,r8", gqa4, 150, 30),
                Arguments.of("innerq:k3,v3,g64,s4,r8", gqa8, 260, 100),
                Arguments.of("innerq:k2a,v4,g4,s2,r4", gqa4, 97, 10),
                Arguments.of("innerq:k3,v2h,g32,s32,r96", hd8, 333, 150),
                Arguments.of("innerq:k3h,v3a,g32,s8,r16", hd12, 181, 20),
                Arguments.of("innerq:k3,v2h,g32,s8,r16", mha, 181, 20),
                Arguments.of("innerq:k4,v3,g16,s8,r16", gqa7, 181, 20),
                Arguments.of("innerq:k3,v3,g32,s0,r0", gqa4, 100, 10),
                Arguments.of("innerq:k2,v2,g32,s8,r16", gqa2, 203, 40),
                Arguments.of("innerq:k4,v3h,g32,s8,r16", gqa2, 203, 40),
                Arguments.of("innerq:k3,v4,g32,s8,r16", mha, 181, 20),
                Arguments.of("kivi-3", gqa4, 300, 140),
                Arguments.of("kivi-3", gqa2, 300, 140),
                Arguments.of("kivi-4", mha, 300, 140),
                Arguments.of("kivi-8", gqa4, 300, 140),
                Arguments.of("kivi-2", hd12, 300, 140),
                Arguments.of("kivi-4", gqa7, 300, 10),
                Arguments.of("q8_0", hd12, 60, 10),
                Arguments.of("q8_0", gqa7, 60, 10),
                Arguments.of("fp16", hd12, 60, 10),
                Arguments.of("fp16", gqa7, 60, 10),
                Arguments.of("fp32", hd12, 60, 10),
                Arguments.of("fp32", mha, 60, 10));
    }

    @ParameterizedTest(name = "{0}: {1}, {2} tokens, prompt {3}")
    @MethodSource("cases")
    void attentionMatchesTheReferenceOfTheSameMode(String modeName, CacheGeometry g, int capacity, int prompt) {
        check(new VectorKvCaches(), modeName, g, capacity, prompt);
    }

    /** The same, every call split over 3 threads (which do not divide the KV heads evenly). */
    @ParameterizedTest(name = "{0}: {1}, {2} tokens, prompt {3}, 3 threads")
    @MethodSource("cases")
    void attentionOnThreeThreadsMatchesTheReferenceOfTheSameMode(String modeName, CacheGeometry g, int capacity,
                                                                 int prompt) {
        try (var workers = new CpuWorkers(3)) {
            check(new VectorKvCaches(new AttendThreads(workers, 0)), modeName, g, capacity, prompt);
        }
    }

    private static void check(VectorKvCaches port, String modeName, CacheGeometry g, int capacity, int prompt) {
        KvMode mode = KvMode.parse(modeName);
        var random = new SplittableRandom(capacity * 31L + g.headDim());
        float[] k = new float[g.kvDim()];
        float[] v = new float[g.kvDim()];
        float[] q = new float[g.heads() * g.headDim()];
        float[] out = new float[q.length];
        float[] expected = new float[q.length];
        double worst = 0;
        try (KvCache cache = port.allocate(g, capacity, mode);
             KvCache reference = new ReferenceKvCaches().allocate(g, capacity, mode)) {
            for (int pos = 0; pos < capacity; pos++) {
                for (int l = 0; l < g.layers(); l++) {
                    for (int i = 0; i < k.length; i++) {
                        int c = i % g.headDim();
                        k[i] = (float) (random.nextGaussian() * (c % 16 == 3 ? 8 : 1) + (c % 5 == 1 ? 1.5 : 0));
                        v[i] = (float) (random.nextGaussian() + (c % 7 == 2 ? 2 : 0)); // offsets: asymmetric groups win
                    }
                    for (int i = 0; i < q.length; i++) {
                        q[i] = (float) random.nextGaussian();
                    }
                    cache.store(l, pos, k, v);
                    reference.store(l, pos, k, v);
                    cache.attend(l, pos, q, out);
                    reference.attend(l, pos, q, expected);
                    double se = 0;
                    double ss = 0;
                    for (int i = 0; i < q.length; i++) {
                        se += (out[i] - expected[i]) * (double) (out[i] - expected[i]);
                        ss += expected[i] * (double) expected[i];
                    }
                    double error = Math.sqrt(se / Math.max(ss, 1e-30));
                    worst = Math.max(worst, Double.isNaN(error) ? Double.POSITIVE_INFINITY : error);
                }
                if (pos == prompt - 1) {
                    cache.endPrefill(prompt);
                    reference.endPrefill(prompt);
                }
            }
            assertThat(cache.bytesInUse()).isEqualTo(reference.bytesInUse());
        }
        assertThat(worst).as("largest relative RMS error against the reference %s", mode).isLessThanOrEqualTo(TOLERANCE);
    }
}
