package io.innerq.vulkan;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

import java.nio.LongBuffer;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK12.*;

/** Descriptor sets for one owner (a cache, a benchmark): made once per kernel and buffers, freed with the pool. */
public final class DescriptorPool implements AutoCloseable {

    private final VulkanDevice device;
    private final long pool;
    private boolean closed;

    /** A pool for up to {@code maxSets} sets of up to {@code maxBindings} storage buffers each. */
    public DescriptorPool(VulkanDevice device, int maxSets, int maxBindings) {
        this.device = device;
        try (MemoryStack stack = stackPush()) {
            VkDescriptorPoolSize.Buffer sizes = VkDescriptorPoolSize.calloc(1, stack)
                    .type(VK_DESCRIPTOR_TYPE_STORAGE_BUFFER).descriptorCount(maxSets * maxBindings);
            LongBuffer p = stack.mallocLong(1);
            VulkanDevice.check(vkCreateDescriptorPool(device.handle(), VkDescriptorPoolCreateInfo.calloc(stack).sType$Default()
                    .maxSets(maxSets).pPoolSizes(sizes), null, p), "vkCreateDescriptorPool");
            pool = p.get(0);
        }
    }

    /** A descriptor set for {@code kernel} with {@code buffers} (whole) at bindings 0, 1, ... */
    public long set(ComputeKernel kernel, VulkanBuffer... buffers) {
        if (buffers.length != kernel.bindings()) {
            throw new IllegalArgumentException("%s takes %d buffers, got %d".formatted(kernel.name(), kernel.bindings(), buffers.length));
        }
        VkDevice vk = device.handle();
        try (MemoryStack stack = stackPush()) {
            LongBuffer p = stack.mallocLong(1);
            VulkanDevice.check(vkAllocateDescriptorSets(vk, VkDescriptorSetAllocateInfo.calloc(stack).sType$Default()
                    .descriptorPool(pool).pSetLayouts(stack.longs(kernel.setLayout())), p), "vkAllocateDescriptorSets(" + kernel.name() + ")");
            long set = p.get(0);
            VkWriteDescriptorSet.Buffer writes = VkWriteDescriptorSet.calloc(buffers.length, stack);
            for (int i = 0; i < buffers.length; i++) {
                VkDescriptorBufferInfo.Buffer info = VkDescriptorBufferInfo.calloc(1, stack)
                        .buffer(buffers[i].handle()).offset(0).range(VK_WHOLE_SIZE);
                writes.get(i).sType$Default().dstSet(set).dstBinding(i).descriptorCount(1)
                        .descriptorType(VK_DESCRIPTOR_TYPE_STORAGE_BUFFER).pBufferInfo(info);
            }
            vkUpdateDescriptorSets(vk, writes, null);
            return set;
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            vkDestroyDescriptorPool(device.handle(), pool, null);
        }
    }
}
