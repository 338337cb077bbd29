package io.innerq.app;

import io.innerq.app.serving.GpuRuntime;
import io.innerq.cache.ReferenceKvCaches;
import io.innerq.cpu.CpuWorkers;
import io.innerq.cpu.VectorKvCaches;
import io.innerq.cpu.VectorMatVec;
import io.innerq.model.HostForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarMatVec;

import java.util.Locale;

/**
 * The ports a generator runs on, chosen by name. Closing it stops its worker threads (and closes a Vulkan device it
 * opened itself).
 *
 * @param matVec         the host's matrix products
 * @param caches         the host forward pass's KV caches
 * @param fallbackCaches for a GPU backend, caches on the CPU that a generation can move to when the GPU fails before
 *                       its first token (with the host's matrix products); null otherwise
 * @param gpu            the device of a GPU backend (shared, not closed by this backend), or null
 */
public record Backend(String name, MatVecPort matVec, KvCachePort caches, KvCachePort fallbackCaches, GpuRuntime gpu,
                      AutoCloseable resources) implements AutoCloseable {

    /**
     * @param name    {@code cpu} (Vector API kernels; matrix products and attention split across threads),
     *                {@code vulkan} (the whole token step on a Vulkan device, weights and KV cache resident there; the
     *                device from {@code innerq.vulkan.device}, else the best one found) or {@code scalar} (the
     *                single-threaded reference ports)
     * @param threads worker threads for {@code cpu} and {@code vulkan}; 0 for one per available core
     */
    public static Backend open(String name, int threads) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu" -> {
                var workers = new CpuWorkers(threads(threads)); // shared by the products and the attention, called in turn
                yield new Backend("cpu", new VectorMatVec(workers), new VectorKvCaches(workers), null, null, workers);
            }
            case "vulkan" -> {
                var gpu = GpuRuntime.open(false);
                try {
                    Backend b = vulkan(gpu, threads);
                    yield new Backend(b.name, b.matVec, b.caches, b.fallbackCaches, gpu, () -> {
                        b.close();
                        gpu.close();
                    });
                } catch (RuntimeException e) {
                    gpu.close();
                    throw e;
                }
            }
            case "scalar" -> new Backend("scalar", new ScalarMatVec(), new ReferenceKvCaches(), null, null, () -> { });
            default -> throw new IllegalArgumentException(
                    "unknown backend '%s': use cpu, vulkan or scalar".formatted(name));
        };
    }

    /**
     * The forward pass on {@code gpu} (a device shared with other backends; not closed by this one), and the CPU's on
     * {@code threads} workers as the fallback (and for the matrix products of a model whose weight types the device's
     * products do not take).
     */
    public static Backend vulkan(GpuRuntime gpu, int threads) {
        var workers = new CpuWorkers(threads(threads));
        return new Backend("vulkan", new VectorMatVec(workers), gpu.caches(), new VectorKvCaches(workers), gpu, workers);
    }

    /** This backend's forward pass over {@code model}. */
    public ForwardPort forward(LlamaModel model) {
        return gpu != null ? gpu.forward(model, matVec) : new HostForward(model, matVec, caches);
    }

    /** The CPU forward pass a GPU generation falls back to, or null for a CPU backend. */
    public ForwardPort fallbackForward(LlamaModel model) {
        return fallbackCaches == null ? null : new HostForward(model, matVec, fallbackCaches);
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
