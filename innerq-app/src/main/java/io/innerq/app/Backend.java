package io.innerq.app;

import io.innerq.app.serving.GpuRuntime;
import io.innerq.cache.ReferenceKvCaches;
import io.innerq.cpu.CpuWorkers;
import io.innerq.cpu.VectorKvCaches;
import io.innerq.cpu.VectorMatVec;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarMatVec;

import java.util.Locale;

/**
 * The ports a generator runs on, chosen by name. Closing it stops its worker threads (and closes a Vulkan device it
 * opened itself).
 *
 * @param fallbackCaches for a GPU backend, caches on the CPU that a generation can move to when the GPU fails before
 *                       its first token (with the same matrix products); null otherwise
 */
public record Backend(String name, MatVecPort matVec, KvCachePort caches, KvCachePort fallbackCaches,
                      AutoCloseable resources) implements AutoCloseable {

    /**
     * @param name    {@code cpu} (Vector API kernels; matrix products and attention split across threads),
     *                {@code vulkan} (the KV cache and attention on a Vulkan device, resident there; matrix products
     *                on the CPU; the device from {@code innerq.vulkan.device}, else the best one found) or
     *                {@code scalar} (the single-threaded reference ports)
     * @param threads worker threads for {@code cpu} and {@code vulkan}; 0 for one per available core
     */
    public static Backend open(String name, int threads) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu" -> {
                var workers = new CpuWorkers(threads(threads)); // shared by the products and the attention, called in turn
                yield new Backend("cpu", new VectorMatVec(workers), new VectorKvCaches(workers), null, workers);
            }
            case "vulkan" -> {
                var gpu = GpuRuntime.open(false);
                try {
                    Backend b = vulkan(gpu.caches(), threads);
                    yield new Backend(b.name, b.matVec, b.caches, b.fallbackCaches, () -> {
                        b.close();
                        gpu.close();
                    });
                } catch (RuntimeException e) {
                    gpu.close();
                    throw e;
                }
            }
            case "scalar" -> new Backend("scalar", new ScalarMatVec(), new ReferenceKvCaches(), null, () -> { });
            default -> throw new IllegalArgumentException(
                    "unknown backend '%s': use cpu, vulkan or scalar".formatted(name));
        };
    }

    /**
     * KV caches and attention from {@code gpuCaches} (a device shared with other backends; not closed by this one),
     * matrix products on {@code threads} CPU workers, and CPU caches on the same workers as the fallback.
     */
    public static Backend vulkan(KvCachePort gpuCaches, int threads) {
        var workers = new CpuWorkers(threads(threads));
        return new Backend("vulkan", new VectorMatVec(workers), gpuCaches, new VectorKvCaches(workers), workers);
    }

    private static int threads(int threads) {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing backend " + name, e);
        }
    }
}
