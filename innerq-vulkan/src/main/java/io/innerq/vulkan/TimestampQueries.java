package io.innerq.vulkan;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkQueryPoolCreateInfo;

import java.nio.LongBuffer;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK12.*;

/** A pool of GPU timestamp queries; read as nanoseconds (the device's period applied). */
public final class TimestampQueries implements AutoCloseable {

    private final VulkanDevice device;
    private final long pool;
    private boolean closed;

    public TimestampQueries(VulkanDevice device, int count) {
        this.device = device;
        try (MemoryStack stack = stackPush()) {
            LongBuffer p = stack.mallocLong(1);
            VulkanDevice.check(vkCreateQueryPool(device.handle(), VkQueryPoolCreateInfo.calloc(stack).sType$Default()
                    .queryType(VK_QUERY_TYPE_TIMESTAMP).queryCount(count), null, p), "vkCreateQueryPool");
            pool = p.get(0);
        }
    }

    long handle() {
        return pool;
    }

    /** The times of queries {@code [first, first + n)} in nanoseconds of the GPU clock (after the submission ended). */
    public double[] readNanos(int first, int n) {
        try (MemoryStack stack = stackPush()) {
            LongBuffer ticks = stack.mallocLong(n);
            VulkanDevice.check(vkGetQueryPoolResults(device.handle(), pool, first, n, ticks, 8,
                    VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT), "vkGetQueryPoolResults");
            double period = device.info().timestampPeriodNs();
            double[] ns = new double[n];
            for (int i = 0; i < n; i++) {
                ns[i] = ticks.get(i) * period;
            }
            return ns;
        }
    }


    @Override
    public void close() {
        if (!closed) {
            closed = true;
            vkDestroyQueryPool(device.handle(), pool, null);
        }
    }
}
