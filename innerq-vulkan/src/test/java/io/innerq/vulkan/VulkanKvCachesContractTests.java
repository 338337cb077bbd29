package io.innerq.vulkan;

import io.innerq.cache.InnerqConfig;
import io.innerq.cache.KvCacheContractTests;
import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCachePort;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

import java.util.List;

/**
 * The GPU caches pass the cache contract on a real Vulkan device (lavapipe in CI) with the validation layer on: every
 * mode they serve, against fp32 within the mode's tolerance and against the reference cache of the same mode. Beyond
 * the presets: asymmetric and hybrid keys, 4- and 8-bit codes, no key normalization, another group size.
 */
class VulkanKvCachesContractTests extends KvCacheContractTests {

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
    void close() {
        kernels.close();
        device.close();
    }

    @Override
    protected KvCachePort port() {
        return new VulkanKvCaches(kernels);
    }

    @Override
    protected List<KvMode> modes() {
        return List.of(KvMode.FP32, KvMode.FP16, KvMode.KIVI_2, KvMode.KIVI_4,
                InnerqConfig.BASE, InnerqConfig.SMALL, InnerqConfig.HYBRID, InnerqConfig.FOUR,
                InnerqConfig.parse("innerq:k3a,v2h,g32,s32,r96,norm"),
                InnerqConfig.parse("innerq:k4h,v3a,g16,s16,r48,nonorm"),
                InnerqConfig.parse("innerq:k8,v8,g32,s32,r96,norm"));
    }
}
