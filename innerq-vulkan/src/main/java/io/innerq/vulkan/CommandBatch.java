package io.innerq.vulkan;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK12.*;

/**
 * A reusable primary command buffer with its own pool and fence: {@link #begin}, record dispatches, copies, barriers
 * and timestamps, then {@link #submitAndWait}. {@link #submitAndContinue} hands what is recorded so far to the GPU
 * and goes on recording into a further command buffer, so that recording overlaps the GPU's work. One thread at a
 * time per batch; batches of different threads are independent (the queue is shared under a lock).
 */
public final class CommandBatch implements AutoCloseable {

    /** Fence timeout: a GPU step never takes this long; past it the device is treated as hung. */
    private static final long TIMEOUT_NS = 60_000_000_000L;

    private final VulkanDevice device;
    private final long pool;
    private final List<VkCommandBuffer> buffers = new ArrayList<>(); // allocated as needed
    private VkCommandBuffer commands;  // the one being recorded
    private int part;                  // its index in buffers
    private final long fence;
    private boolean inFlight;          // parts submitted without the fence, not yet waited for
    private boolean recording;
    private boolean closed;
    private KernelProfile profile;     // null: no timestamps between commands

    public CommandBatch(VulkanDevice device) {
        this.device = device;
        VkDevice vk = device.handle();
        try (MemoryStack stack = stackPush()) {
            LongBuffer pp = stack.mallocLong(1);
            VulkanDevice.check(vkCreateCommandPool(vk, VkCommandPoolCreateInfo.calloc(stack).sType$Default()
                    .flags(VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT).queueFamilyIndex(device.queueFamily()), null, pp),
                    "vkCreateCommandPool");
            pool = pp.get(0);
            commands = allocate();
            LongBuffer pf = stack.mallocLong(1);
            VulkanDevice.check(vkCreateFence(vk, VkFenceCreateInfo.calloc(stack).sType$Default(), null, pf), "vkCreateFence");
            fence = pf.get(0);
        }
    }

    private VkCommandBuffer allocate() {
        try (MemoryStack stack = stackPush()) {
            PointerBuffer p = stack.mallocPointer(1);
            VulkanDevice.check(vkAllocateCommandBuffers(device.handle(), VkCommandBufferAllocateInfo.calloc(stack).sType$Default()
                    .commandPool(pool).level(VK_COMMAND_BUFFER_LEVEL_PRIMARY).commandBufferCount(1), p),
                    "vkAllocateCommandBuffers");
            VkCommandBuffer buffer = new VkCommandBuffer(p.get(0), device.handle());
            buffers.add(buffer);
            return buffer;
        }
    }

    /** Starts recording (discarding what was recorded before). */
    public CommandBatch begin() {
        settle();
        part = 0;
        commands = buffers.getFirst();
        start();
        if (profile != null) {
            profile.started();
            vkCmdResetQueryPool(commands, profile.queries().handle(), 0, KernelProfile.capacity());
            timestamp(profile.queries(), profile.next("(start)"));
        }
        return this;
    }

    /**
     * From the next {@link #begin} on, times every command into {@code p} (null: stops); call {@link KernelProfile#collect}
     * after each {@link #submitAndWait}.
     */
    CommandBatch profile(KernelProfile p) {
        this.profile = p;
        return this;
    }

    /** With a profile: a barrier, then a timestamp for the command just recorded. */
    private void profiled(String label) {
        if (profile != null && recording) {
            barrier();
            timestamp(profile.queries(), profile.next(label));
        }
    }

    private void start() {
        try (MemoryStack stack = stackPush()) {
            VulkanDevice.check(vkResetCommandBuffer(commands, 0), "vkResetCommandBuffer");
            VulkanDevice.check(vkBeginCommandBuffer(commands, VkCommandBufferBeginInfo.calloc(stack).sType$Default()
                    .flags(VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)), "vkBeginCommandBuffer");
        }
        recording = true;
    }

    /**
     * Submits what was recorded since {@link #begin} or the last call, without waiting, and goes on recording into a
     * further command buffer that starts with a {@link #barrier} (so it sees everything the submitted part wrote). The
     * last part goes with {@link #submitAndWait}.
     */
    public CommandBatch submitAndContinue() {
        checkRecording();
        try (MemoryStack stack = stackPush()) {
            recording = false;
            VulkanDevice.check(vkEndCommandBuffer(commands), "vkEndCommandBuffer");
            VkSubmitInfo submit = VkSubmitInfo.calloc(stack).sType$Default().pCommandBuffers(stack.pointers(commands));
            device.submit(submit, VK_NULL_HANDLE);
            inFlight = true;
        }
        part++;
        commands = part < buffers.size() ? buffers.get(part) : allocate();
        start();
        barrier();
        profiled(KernelProfile.BETWEEN_PARTS);
        return this;
    }

    /** Waits for parts submitted without the fence (after a failure between them), so none is pending when reused or freed. */
    private void settle() {
        if (inFlight) {
            device.waitIdle();
            inFlight = false;
        }
    }

    /** Records a dispatch of {@code kernel} with descriptor set {@code set} and push constants {@code push} (32-bit words). */
    public CommandBatch dispatch(ComputeKernel kernel, long set, int[] push, int x, int y, int z) {
        return dispatch(kernel, kernel.name(), set, push, x, y, z);
    }

    /** {@link #dispatch(ComputeKernel, long, int[], int, int, int)}, named {@code label} in a {@link KernelProfile}. */
    CommandBatch dispatch(ComputeKernel kernel, String label, long set, int[] push, int x, int y, int z) {
        checkRecording();
        if (4 * push.length != kernel.pushBytes()) {
            throw new IllegalArgumentException("%s takes %d bytes of push constants, got %d"
                    .formatted(kernel.name(), kernel.pushBytes(), 4 * push.length));
        }
        vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.pipeline());
        try (MemoryStack stack = stackPush()) {
            vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.layout(), 0, stack.longs(set), null);
            if (push.length > 0) {
                IntBuffer words = stack.ints(push);
                vkCmdPushConstants(commands, kernel.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, words);
            }
        }
        vkCmdDispatch(commands, x, y, z);
        profiled(label);
        return this;
    }

    /** Makes every earlier shader or transfer write visible to every later shader or transfer access. */
    public CommandBatch barrier() {
        checkRecording();
        try (MemoryStack stack = stackPush()) {
            VkMemoryBarrier.Buffer b = VkMemoryBarrier.calloc(1, stack).sType$Default()
                    .srcAccessMask(VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT)
                    .dstAccessMask(VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT
                            | VK_ACCESS_TRANSFER_WRITE_BIT);
            int stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
            vkCmdPipelineBarrier(commands, stages, stages, 0, b, null, null);
        }
        return this;
    }

    /** Copies {@code bytes} between buffers. */
    public CommandBatch copy(VulkanBuffer src, long srcOffset, VulkanBuffer dst, long dstOffset, long bytes) {
        checkRecording();
        try (MemoryStack stack = stackPush()) {
            vkCmdCopyBuffer(commands, src.handle(), dst.handle(),
                    VkBufferCopy.calloc(1, stack).srcOffset(srcOffset).dstOffset(dstOffset).size(bytes));
        }
        profiled("copy");
        return this;
    }

    /** Fills {@code bytes} (a multiple of 4) of {@code dst} from {@code offset} with the 32-bit word {@code value}. */
    public CommandBatch fill(VulkanBuffer dst, long offset, long bytes, int value) {
        checkRecording();
        vkCmdFillBuffer(commands, dst.handle(), offset, bytes, value);
        return this;
    }

    /** Resets queries {@code [first, first + count)} of {@code queries} (before writing them again). */
    public CommandBatch resetQueries(TimestampQueries queries, int first, int count) {
        checkRecording();
        vkCmdResetQueryPool(commands, queries.handle(), first, count);
        return this;
    }

    /** Writes the GPU clock into query {@code index} once all earlier commands have finished. */
    public CommandBatch timestamp(TimestampQueries queries, int index) {
        checkRecording();
        vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries.handle(), index);
        return this;
    }

    /** Ends recording, submits, and waits for the GPU; device writes are then visible to the host. */
    public void submitAndWait() {
        checkRecording();
        VkDevice vk = device.handle();
        try (MemoryStack stack = stackPush()) {
            VkMemoryBarrier.Buffer toHost = VkMemoryBarrier.calloc(1, stack).sType$Default()
                    .srcAccessMask(VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT)
                    .dstAccessMask(VK_ACCESS_HOST_READ_BIT);
            vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_PIPELINE_STAGE_HOST_BIT, 0, toHost, null, null);
            recording = false;
            VulkanDevice.check(vkEndCommandBuffer(commands), "vkEndCommandBuffer");
            VkSubmitInfo submit = VkSubmitInfo.calloc(stack).sType$Default().pCommandBuffers(stack.pointers(commands));
            VulkanDevice.check(vkResetFences(vk, fence), "vkResetFences");
            device.submit(submit, fence);
            int r = vkWaitForFences(vk, fence, true, TIMEOUT_NS);
            if (r == VK_TIMEOUT) {
                throw new VulkanException("the GPU did not finish a submission within 60 s on " + device.info().name()
                        + ": treat the device as hung and reopen it");
            }
            VulkanDevice.check(r, "vkWaitForFences");
            inFlight = false; // the last part waited, after a barrier, for the ones before it
        }
    }

    private void checkRecording() {
        if (!recording) {
            throw new IllegalStateException("call begin() before recording commands");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        VkDevice vk = device.handle();
        try {
            settle();
        } catch (RuntimeException e) {
            // a lost device: nothing is pending any more
        }
        vkDestroyFence(vk, fence, null);
        vkDestroyCommandPool(vk, pool, null); // frees its command buffers
    }
}
