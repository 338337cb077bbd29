package io.innerq.app;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.cpu.CpuWorkers;
import io.innerq.cpu.VectorKvCaches;
import io.innerq.cpu.VectorMatVec;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.vulkan.KernelLibrary;
import io.innerq.vulkan.VulkanDevice;
import io.innerq.vulkan.VulkanKvCaches;

import java.util.Locale;

/** The ports a generator runs on, chosen by name. Closing it stops its worker threads. */
public record Backend(String name, MatVecPort matVec, KvCachePort caches, AutoCloseable resources)
        implements AutoCloseable {

    /**
     * @param name    {@code cpu} (Vector API kernels; matrix products and attention split across threads),
     *                {@code vulkan} (the KV cache and attention on a Vulkan device, resident there; matrix products
     *                on the CPU; the device from {@code innerq.vulkan.device}, else the best one found) or
     *                {@code scalar} (the single-threaded reference ports)
     * @param threads worker threads for {@code cpu}; 0 for one per available core
     */
    public static Backend open(String name, int threads) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu" -> {
                int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
                var workers = new CpuWorkers(n); // shared by the products and the attention, called in turn
                yield new Backend("cpu", new VectorMatVec(workers), new VectorKvCaches(workers), workers);
            }
            case "vulkan" -> {
                var device = VulkanDevice.open(VulkanDevice.Options.fromSystemProperties());
                var kernels = new KernelLibrary(device);
                int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
                var workers = new CpuWorkers(n);
                yield new Backend("vulkan", new VectorMatVec(workers), new VulkanKvCaches(kernels), () -> {
                    workers.close();
                    kernels.close();
                    device.close();
                });
            }
            case "scalar" -> new Backend("scalar", new ScalarMatVec(), new ReferenceKvCaches(), () -> { });
            default -> throw new IllegalArgumentException(
                    "unknown backend '%s': use cpu, vulkan or scalar".formatted(name));
        };
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
