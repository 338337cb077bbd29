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
        float[] input = new float[2 * n];
        for (int i = 0; i < input.length; i++) {
            input[i] = i * 0.5f;
        }
        try (var in = VulkanBuffer.hostVisible(device, 8L * n);
             var gpu = VulkanBuffer.deviceLocal(device, 8L * n);
             var sum = VulkanBuffer.deviceLocal(device, 4L * n);
             var out = VulkanBuffer.hostVisible(device, 4L * n);
             var kernel = new ComputeKernel(device, "reduce_chunks", 2, 12);
             var pool = new DescriptorPool(device, 1, 2);
             var queries = new TimestampQueries(device, 2);
             var batch = new CommandBatch(device)) {
            in.write(0, input, 0, 2 * n);
            batch.begin()
                    .resetQueries(queries, 0, 2)
                    .copy(in, 0, gpu, 0, 8L * n)
                    .barrier()
                    .timestamp(queries, 0)
                    .dispatch(kernel, pool.set(kernel, gpu, sum), new int[]{n, 2, 0}, (n + 63) / 64, 1, 1)
                    .barrier()
                    .timestamp(queries, 1)
                    .copy(sum, 0, out, 0, 4L * n)
                    .submitAndWait();
            float[] result = new float[n];
            out.read(0, result, 0, n);
            for (int i = 0; i < n; i++) {
                assertThat(result[i]).as("element %d", i).isEqualTo(input[i] + input[n + i]);
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
        assertThatThrownBy(() -> new ComputeKernel(device, "no-such-shader", 1, 0))
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
