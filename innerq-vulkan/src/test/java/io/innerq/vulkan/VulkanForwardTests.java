package io.innerq.vulkan;

import io.innerq.cache.KvMode;
import io.innerq.model.ForwardContractTests;
import io.innerq.model.HostForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.tensor.ScalarMatVec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

import java.util.List;

/**
 * The forward contract with the KV cache and attention on the Vulkan device and the matrix products on the host (the
 * path for models whose weight types the device's products do not take).
 */
class VulkanForwardTests extends ForwardContractTests {

    private VulkanDevice device;
    private KernelLibrary kernels;

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
        kernels.close();
        device.close();
    }

    @Override
    protected ForwardPort forward(LlamaModel model) {
        return new HostForward(model, new ScalarMatVec(), new VulkanKvCaches(kernels));
    }

    @Override
    protected List<KvMode> modes() {
        return KvMode.all().stream().filter(VulkanKvCaches::serves).toList();
    }
}
