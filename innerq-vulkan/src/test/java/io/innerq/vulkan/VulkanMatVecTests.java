package io.innerq.vulkan;

import io.innerq.model.ForwardContractTests;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.BlockEncoder;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Matrix-vector products on the device against the scalar reference for every weight type it takes (ragged float
 * rows included), and the whole forward pass of stories260K with its products and its cache on the device: the
 * reference logits, greedy text, and batched prefill equal to steps.
 */
class VulkanMatVecTests extends ForwardContractTests {

    private VulkanDevice device;
    private KernelLibrary kernels;
    private VulkanMatVec ops;

    @BeforeAll
    void open() {
        device = TestDevices.open();
        kernels = new KernelLibrary(device);
        ops = new VulkanMatVec(kernels);
    }

    @AfterEach
    void noValidationMessages() {
        TestDevices.assertNoValidationMessages(device);
    }

    @AfterAll
    void closeDevice() {
        ops.close();
        kernels.close();
        device.close();
    }

    @Override
    protected MatVecPort ops() {
        return ops;
    }

    @Override
    protected KvCachePort caches() {
        return new VulkanKvCaches(kernels);
    }

    @Override
    protected List<io.innerq.cache.KvMode> modes() {
        return List.of(io.innerq.cache.KvMode.FP32, io.innerq.cache.InnerqConfig.SMALL);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void productsMatchTheScalarReference(GgmlType type) {
        int cols = type.blockSize() == 1 ? 200 : 256;     // float rows need not fill a block of 32
        int rows = 37;
        Tensor w = BlockEncoder.random(type, rows, cols, 11);
        var random = new SplittableRandom(5);
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] expected = new float[rows];
        float[] actual = new float[rows];
        new ScalarMatVec().matVec(w, x, expected);
        ops.matVec(w, x, actual);
        for (int r = 0; r < rows; r++) {
            assertThat(actual[r]).as("row %d of %s", r, type).isCloseTo(expected[r], within(1e-4f * (1 + Math.abs(expected[r]))));
        }
    }
}
