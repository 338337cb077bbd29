package io.innerq.app.serving;

import io.innerq.port.out.KvCachePort;
import io.innerq.vulkan.KernelLibrary;
import io.innerq.vulkan.VulkanDevice;
import io.innerq.vulkan.VulkanException;
import io.innerq.vulkan.VulkanKvCaches;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/** The Vulkan device, its kernels and the GPU cache port that every slot of the engine shares. */
public final class GpuRuntime implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GpuRuntime.class);

    private final VulkanDevice device;
    private final KernelLibrary kernels;
    private final KvCachePort caches;

    private GpuRuntime(VulkanDevice device, Function<KernelLibrary, KvCachePort> caches) {
        this.device = device;
        this.kernels = new KernelLibrary(device);
        this.caches = caches.apply(kernels);
    }

    /**
     * Opens the device {@code innerq.vulkan.device} names, or the best one found.
     *
     * @param gpuOnly for {@code innerq.backend=auto}: null (with the reason logged) when there is no Vulkan loader, no
     *                device, or only a CPU implementation; otherwise a missing device is an error that says what to do
     */
    public static GpuRuntime open(boolean gpuOnly) {
        VulkanDevice device;
        try {
            device = VulkanDevice.open(VulkanDevice.Options.fromSystemProperties());
        } catch (VulkanException e) {
            if (gpuOnly) {
                log.info("innerq.backend=auto: no Vulkan GPU ({}); using the CPU", e.getMessage());
                return null;
            }
            throw new VulkanException("the vulkan backend cannot start: " + e.getMessage()
                    + " (or use the cpu backend, or auto)");
        }
        if (gpuOnly && device.info().isCpu()) {
            log.info("innerq.backend=auto: the only Vulkan device is a CPU implementation ({}); using the CPU backend",
                    device.info().name());
            device.close();
            return null;
        }
        return new GpuRuntime(device, VulkanKvCaches::new);
    }

    /** A runtime on an open device whose GPU caches come from {@code caches} (a decorator, say); closes the device. */
    public static GpuRuntime of(VulkanDevice device, Function<KernelLibrary, KvCachePort> caches) {
        return new GpuRuntime(device, caches);
    }

    public KvCachePort caches() {
        return caches;
    }

    public String deviceName() {
        return device.info().name();
    }

    @Override
    public void close() {
        kernels.close();
        device.close();
    }
}
