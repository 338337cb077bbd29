package io.innerq.vulkan;

import io.innerq.cache.KvMode;
import io.innerq.model.ForwardContractTests;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

import java.util.ArrayList;
import java.util.List;

/**
 * The forward contract with the whole token step on the Vulkan device ({@link VulkanForward}): weights, norms, RoPE,
 * products, cache and attention there, one submission per token (or per prompt batch).
 */
class VulkanStepForwardTests extends ForwardContractTests {

    private VulkanDevice device;
    private KernelLibrary kernels;
    private final List<VulkanForward> forwards = new ArrayList<>();

    @BeforeAll
    void open() {
        device = TestDevices.open();
        kernels = new KernelLibrary(device);
    }

    @AfterEach
    void noValidationMessages() {
        TestDevices.assertNoValidationMessages(device);
    }

    @AfterAll
    void closeDevice() {
        forwards.forEach(VulkanForward::close);
        kernels.close();
        device.close();
    }

    @Override
    protected ForwardPort forward(LlamaModel model) {
        var forward = new VulkanForward(kernels, model);
        forwards.add(forward);
        return forward;
    }

    @Override
    protected List<KvMode> modes() {
        return KvMode.all().stream().filter(VulkanKvCaches::serves).toList();
    }
}
