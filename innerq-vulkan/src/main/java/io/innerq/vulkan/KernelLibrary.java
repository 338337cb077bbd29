package io.innerq.vulkan;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernels of one device, made on first use and shared by every cache and benchmark of that device (pipeline
 * creation compiles the SPIR-V for the device: once per shader and specialization).
 */
public final class KernelLibrary implements AutoCloseable {

    /** How a kernel was made: its shader, buffer bindings, push constant words and specialization values. */
    public record Key(String shader, int bindings, int pushWords, String spec) {
        /** The number of specialization values given. */
        public int specCount() {
            return spec.equals("[]") ? 0 : spec.split(",").length;
        }
    }

    private final VulkanDevice device;
    private final Map<Key, ComputeKernel> kernels = new ConcurrentHashMap<>();

    public KernelLibrary(VulkanDevice device) {
        this.device = device;
    }

    /** The kernel {@code shader} with {@code bindings} buffers, {@code pushWords} 32-bit push constants and the given specialization. */
    public ComputeKernel get(String shader, int bindings, int pushWords, int... specialization) {
        var key = new Key(shader, bindings, pushWords, Arrays.toString(specialization));
        return kernels.computeIfAbsent(key, k -> new ComputeKernel(device, shader, bindings, 4 * pushWords, specialization));
    }

    /** The kernels made so far. */
    public java.util.Set<Key> made() {
        return java.util.Set.copyOf(kernels.keySet());
    }

    public VulkanDevice device() {
        return device;
    }

    @Override
    public void close() {
        kernels.values().forEach(ComputeKernel::close);
        kernels.clear();
    }
}
