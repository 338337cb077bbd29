package io.innerq.vulkan;

import io.innerq.cache.InnerqConfig;
import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;

/**
 * KV caches resident on a Vulkan device, with their attention as compute kernels: fp32 and fp16 (dense), the InnerQ
 * layouts (quantized on the GPU as tokens arrive, attention on packed codes with one scale per group), and KIVI
 * (quantized on the GPU likewise, attention dequantizing every element, as KIVI's kernels do). q8_0 is CPU-only.
 * Each cache owns its buffers and command batch, so sequences on different threads run independently.
 */
public final class VulkanKvCaches implements KvCachePort {

    private final KernelLibrary kernels;

    public VulkanKvCaches(KernelLibrary kernels) {
        this.kernels = kernels;
    }

    @Override
    public KvCache allocate(CacheGeometry geometry, int capacity, KvMode mode) {
        return allocate(kernels, geometry, capacity, mode, null);
    }

    /** A cache whose I/O buffer is {@code sharedIo} (a forward pass's activations, see {@link VulkanKvCache#recordStep}), or its own when null. */
    static VulkanKvCache allocate(KernelLibrary kernels, CacheGeometry geometry, int capacity, KvMode mode, VulkanBuffer sharedIo) {
        return switch (mode) {
            case KvMode.Fp32 m -> new VulkanDenseKvCache(kernels, geometry, capacity, false, sharedIo);
            case KvMode.Fp16 m -> new VulkanDenseKvCache(kernels, geometry, capacity, true, sharedIo);
            case InnerqConfig c -> new VulkanInnerqKvCache(kernels, geometry, capacity, c, sharedIo);
            case KvMode.Kivi m -> new VulkanKiviKvCache(kernels, geometry, capacity, m, sharedIo);
            case KvMode.Q8 m -> throw new IllegalArgumentException(unsupported(mode));
        };
    }

    /** Whether this backend stores {@code mode}. */
    public static boolean serves(KvMode mode) {
        return !(mode instanceof KvMode.Q8);
    }

    VulkanDevice device() {
        return kernels.device();
    }

    private static String unsupported(KvMode mode) {
        return "the Vulkan backend does not store KV cache mode " + mode.name()
                + ": use fp32, fp16, KIVI or an InnerQ mode there, or the CPU backend for this mode";
    }
}
