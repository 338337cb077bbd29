package io.innerq.serving;

import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.vulkan.VulkanException;

/**
 * The whole token step on a Vulkan device shared with other slots, and the CPU's forward pass beside it: the fallback,
 * and the matrix products of a model too large for the device's buffers. Only loaded when a GPU backend is chosen.
 *
 * @param gpu   the device, shared; closed with this backend only when {@code owned}
 * @param host  the host's backend on this slot's CPU workers (scalar when the JVM lacks the Vector API)
 * @param owned whether this backend opened {@code gpu} (for a single user, such as a command)
 */
record VulkanBackend(GpuRuntime gpu, Backend host, boolean owned) implements Backend {

    /** A slot's backend on a shared device. */
    static VulkanBackend shared(GpuRuntime gpu, int threads) {
        return new VulkanBackend(gpu, Backend.cpu(threads), false);
    }

    /** A backend that owns {@code gpu} and closes it. */
    static VulkanBackend owning(GpuRuntime gpu, int threads) {
        try {
            return new VulkanBackend(gpu, Backend.cpu(threads), true);
        } catch (RuntimeException e) {
            gpu.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "vulkan";
    }

    @Override
    public ForwardPort forward(LlamaModel model) {
        MatVecPort hostProducts = host instanceof Backend.Cpu cpu ? cpu.matVec() : new ScalarMatVec();
        return gpu.forward(model, hostProducts);
    }

    @Override
    public ForwardPort fallbackForward(LlamaModel model) {
        return host.forward(model);
    }

    @Override
    public boolean isDeviceFailure(RuntimeException e) {
        return e instanceof VulkanException;
    }

    @Override
    public void close() {
        host.close();
        if (owned) {
            gpu.close();
        }
    }
}
