package io.innerq.vulkan;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.VkBufferCreateInfo;
import org.lwjgl.vulkan.VkMemoryAllocateInfo;
import org.lwjgl.vulkan.VkMemoryRequirements;

import java.nio.ByteBuffer;
import java.nio.LongBuffer;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK12.*;

/**
 * A storage buffer with its own memory. {@link #deviceLocal} for data the GPU reads often (fast VRAM, filled by
 * copies or kernels), {@link #hostVisible} for small per-step inputs and outputs, mapped for the buffer's life.
 * Where device-local memory is host-visible too (lavapipe, unified memory), both are the same kind.
 */
public final class VulkanBuffer implements AutoCloseable {

    private final VulkanDevice device;
    private final long buffer;
    private final long memory;
    private final long size;
    private final long mapped; // address, or 0 when not host-visible
    private boolean closed;

    private VulkanBuffer(VulkanDevice device, long size, boolean host) {
        if (size <= 0) {
            throw new IllegalArgumentException("buffer size must be positive, got " + size);
        }
        this.device = device;
        this.size = size;
        var vk = device.handle();
        try (MemoryStack stack = stackPush()) {
            VkBufferCreateInfo create = VkBufferCreateInfo.calloc(stack)
                    .sType$Default()
                    .size(size)
                    .usage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)
                    .sharingMode(VK_SHARING_MODE_EXCLUSIVE);
            LongBuffer p = stack.mallocLong(1);
            VulkanDevice.check(vkCreateBuffer(vk, create, null, p), "vkCreateBuffer(" + size + " bytes)");
            buffer = p.get(0);
            VkMemoryRequirements req = VkMemoryRequirements.malloc(stack);
            vkGetBufferMemoryRequirements(vk, buffer, req);
            int type = host
                    ? device.memoryType(req.memoryTypeBits(), VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                    VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
                    : device.memoryType(req.memoryTypeBits(), VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
            VkMemoryAllocateInfo alloc = VkMemoryAllocateInfo.calloc(stack)
                    .sType$Default()
                    .allocationSize(req.size())
                    .memoryTypeIndex(type);
            int r = vkAllocateMemory(vk, alloc, null, p);
            if (r != VK_SUCCESS) {
                vkDestroyBuffer(vk, buffer, null);
                throw new VulkanException("cannot allocate %,d bytes of %s memory on %s (%s): reduce the context or the cache's size"
                        .formatted(size, host ? "host-visible" : "device-local", device.info().name(), VulkanException.name(r)));
            }
            memory = p.get(0);
            VulkanDevice.check(vkBindBufferMemory(vk, buffer, memory, 0), "vkBindBufferMemory");
            if (host) {
                PointerBuffer pp = stack.mallocPointer(1);
                VulkanDevice.check(vkMapMemory(vk, memory, 0, VK_WHOLE_SIZE, 0, pp), "vkMapMemory");
                mapped = pp.get(0);
            } else {
                mapped = 0;
            }
        }
    }

    /** A buffer in the GPU's own memory. */
    public static VulkanBuffer deviceLocal(VulkanDevice device, long size) {
        return new VulkanBuffer(device, size, false);
    }

    /** A buffer the host maps for its whole life (coherent: writes need no flush). */
    public static VulkanBuffer hostVisible(VulkanDevice device, long size) {
        return new VulkanBuffer(device, size, true);
    }

    public long size() {
        return size;
    }

    long handle() {
        return buffer;
    }

    /** The mapped bytes of a host-visible buffer. */
    public ByteBuffer mapped() {
        if (mapped == 0) {
            throw new IllegalStateException("a device-local buffer is not mapped: copy through a host-visible one");
        }
        return MemoryUtil.memByteBuffer(mapped, Math.toIntExact(Math.min(size, Integer.MAX_VALUE)));
    }

    /** Writes {@code values} at byte {@code offset} of a host-visible buffer. */
    public void write(long offset, float[] values, int from, int count) {
        checkRange(offset, 4L * count);
        MemoryUtil.memFloatBuffer(mapped + offset, count).put(values, from, count);
    }

    /** Reads {@code count} floats at byte {@code offset} of a host-visible buffer. */
    public void read(long offset, float[] values, int from, int count) {
        checkRange(offset, 4L * count);
        MemoryUtil.memFloatBuffer(mapped + offset, count).get(values, from, count);
    }

    /** Writes {@code values} at byte {@code offset} of a host-visible buffer. */
    public void write(long offset, int[] values, int from, int count) {
        checkRange(offset, 4L * count);
        MemoryUtil.memIntBuffer(mapped + offset, count).put(values, from, count);
    }

    /** Reads {@code count} ints at byte {@code offset} of a host-visible buffer. */
    public void read(long offset, int[] values, int from, int count) {
        checkRange(offset, 4L * count);
        MemoryUtil.memIntBuffer(mapped + offset, count).get(values, from, count);
    }

    private void checkRange(long offset, long bytes) {
        if (mapped == 0) {
            throw new IllegalStateException("a device-local buffer is not mapped: copy through a host-visible one");
        }
        if (offset < 0 || offset + bytes > size) {
            throw new IndexOutOfBoundsException("bytes [%d, %d) outside a buffer of %d".formatted(offset, offset + bytes, size));
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        var vk = device.handle();
        vkDestroyBuffer(vk, buffer, null);
        vkFreeMemory(vk, memory, null); // unmaps
    }
}
