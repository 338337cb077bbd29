package io.innerq.vulkan;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VulkanDeviceTests {

    private VulkanDevice device;

    @BeforeAll
    void open() {
        device = TestDevices.open();
    }

    @AfterAll
    void close() {
        TestDevices.assertNoValidationMessages(device);
        device.close();
    }

    @Test
    void runsAKernelAndReadsItsTimestamps() {
        int n = 1000;
        float[] input = new float[n];
        for (int i = 0; i < n; i++) {
            input[i] = i * 0.5f;
        }
        try (var in = VulkanBuffer.hostVisible(device, 4L * n);
             var gpu = VulkanBuffer.deviceLocal(device, 4L * n);
             var out = VulkanBuffer.hostVisible(device, 4L * n);
             var kernel = new ComputeKernel(device, "fill", 2, 8, new int[0], 1);
             var queries = new TimestampQueries(device, 2);
             var batch = new CommandBatch(device)) {
            in.write(0, input, 0, n);
            long set = kernel.bind(in, gpu);
            batch.begin()
                    .resetQueries(queries, 0, 2)
                    .timestamp(queries, 0)
                    .dispatch(kernel, set, new int[]{n, Float.floatToRawIntBits(3f)}, (n + 63) / 64, 1, 1)
                    .barrier()
                    .copy(gpu, 0, out, 0, 4L * n)
                    .timestamp(queries, 1)
                    .submitAndWait();
            float[] result = new float[n];
            out.read(0, result, 0, n);
            for (int i = 0; i < n; i++) {
                assertThat(result[i]).as("element %d", i).isEqualTo(input[i] * 3f + i);
            }
            double[] t = queries.readNanos(0, 2);
            assertThat(t[1]).isGreaterThanOrEqualTo(t[0]);
        }
    }

    @Test
    void describesTheDevice() {
        var info = device.info();
        assertThat(info.name()).isNotBlank();
        assertThat(info.subgroupSize()).isPositive();
        assertThat(info.timestampPeriodNs()).isPositive();
        assertThat(info.maxPushConstants()).isGreaterThanOrEqualTo(128);
    }

    @Test
    void aMissingShaderSaysHowToBuildIt() {
        assertThatThrownBy(() -> new ComputeKernel(device, "no-such-shader", 1, 0, new int[0], 1))
                .isInstanceOf(VulkanException.class)
                .hasMessageContaining("not in the jar");
    }

    @Test
    void anUnknownDeviceNameListsTheDevicesFound() {
        assertThatThrownBy(() -> VulkanDevice.open(new VulkanDevice.Options(false, "no-such-gpu")))
                .isInstanceOf(VulkanException.class)
                .hasMessageContaining("no Vulkan device matches")
                .hasMessageContaining(device.info().name());
    }
}
