package io.innerq.serving;

import io.innerq.model.HostForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.vulkan.KernelLibrary;
import io.innerq.vulkan.VulkanDevice;
import io.innerq.vulkan.VulkanException;
import io.innerq.vulkan.VulkanForward;
import io.innerq.vulkan.VulkanKvCaches;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The Vulkan device, its kernels, and the forward passes that every slot of the engine shares: one per model, its
 * weights uploaded once.
 */
public final class GpuRuntime implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GpuRuntime.class);

    private final VulkanDevice device;
    private final KernelLibrary kernels;
    private final KvCachePort caches;
    private final UnaryOperator<ForwardPort> decorator;
    private final Map<LlamaModel, VulkanForward> forwards = new IdentityHashMap<>();
    private final Set<LlamaModel> hostOnly = Collections.newSetFromMap(new IdentityHashMap<>());

    private GpuRuntime(VulkanDevice device, UnaryOperator<ForwardPort> decorator) {
        this.device = device;
        this.kernels = new KernelLibrary(device);
        this.caches = new VulkanKvCaches(kernels);
        this.decorator = decorator;
    }

    /**
     * Opens the device {@code innerq.vulkan.device} names, or the best one found.
     *
     * @param gpuOnly for {@code spring.ai.innerq.backend=auto}: null (with the reason logged) when there is no Vulkan loader, no
     *                device, or only a CPU implementation; otherwise a missing device is an error that says what to do
     */
    public static GpuRuntime open(boolean gpuOnly) {
        VulkanDevice device;
        try {
            device = VulkanDevice.open(VulkanDevice.Options.fromSystemProperties());
        } catch (VulkanException e) {
            if (gpuOnly) {
                log.info("spring.ai.innerq.backend=auto: no Vulkan GPU ({}); using the CPU", e.getMessage());
                return null;
            }
            throw new VulkanException("the vulkan backend cannot start: " + e.getMessage()
                    + " (or use the cpu backend, or auto)");
        }
        if (gpuOnly && device.info().isCpu()) {
            log.info("spring.ai.innerq.backend=auto: the only Vulkan device is a CPU implementation ({}); using the CPU backend",
                    device.info().name());
            device.close();
            return null;
        }
        return new GpuRuntime(device, UnaryOperator.identity());
    }

    /** A runtime on an open device whose forward passes are wrapped by {@code decorator} (to inject faults, say); closes the device. */
    public static GpuRuntime of(VulkanDevice device, UnaryOperator<ForwardPort> decorator) {
        return new GpuRuntime(device, decorator);
    }

    /** KV caches on this device, for a forward pass on the host. */
    public KvCachePort caches() {
        return caches;
    }

    /**
     * The forward pass of {@code model} on this device: the whole step, its weights uploaded at the first call and
     * shared by later ones; or, when a weight does not fit the device, {@code hostOps} for the products with the KV
     * cache and attention on the device.
     */
    public ForwardPort forward(LlamaModel model, MatVecPort hostOps) {
        synchronized (forwards) {
            if (!forwards.containsKey(model) && !hostOnly.contains(model)) {
                try {
                    forwards.put(model, new VulkanForward(kernels, model));
                } catch (IllegalArgumentException e) {
                    log.warn("{}: the matrix products run on the CPU, the KV cache and attention on {}", e.getMessage(), deviceName());
                    hostOnly.add(model);
                }
            }
            VulkanForward forward = forwards.get(model);
            return decorator.apply(forward != null ? forward : new HostForward(model, hostOps, caches));
        }
    }

    public String deviceName() {
        return device.info().name();
    }

    @Override
    public void close() {
        synchronized (forwards) {
            forwards.values().forEach(VulkanForward::close);
            forwards.clear();
        }
        kernels.close();
        device.close();
    }
}
