package io.innerq.vulkan;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.*;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK12.*;

/**
 * One compute pipeline: a SPIR-V module from the jar ({@code io/innerq/vulkan/shaders/NAME.spv}, built from
 * {@code src/main/glsl/NAME.comp}), specialized with integer constants (constant_id 0, 1, ...), reading and writing
 * {@code bindings} storage buffers (set 0, bindings 0..n-1) and taking {@code pushBytes} of push constants.
 * Kernels are shared (immutable once made); descriptor sets come from a {@link DescriptorPool} of the user's.
 */
public final class ComputeKernel implements AutoCloseable {

    private final VulkanDevice device;
    private final String name;
    private final int bindings;
    private final int pushBytes;
    private final long module;
    private final long setLayout;
    private final long pipelineLayout;
    private final long pipeline;
    private boolean closed;

    public ComputeKernel(VulkanDevice device, String shader, int bindings, int pushBytes, int... specialization) {
        this.device = device;
        this.name = shader;
        this.bindings = bindings;
        this.pushBytes = pushBytes;
        VkDevice vk = device.handle();
        ByteBuffer spirv = load(shader);
        try (MemoryStack stack = stackPush()) {
            LongBuffer p = stack.mallocLong(1);
            VulkanDevice.check(vkCreateShaderModule(vk, VkShaderModuleCreateInfo.calloc(stack).sType$Default().pCode(spirv), null, p),
                    "vkCreateShaderModule(" + shader + ")");
            module = p.get(0);

            VkDescriptorSetLayoutBinding.Buffer b = VkDescriptorSetLayoutBinding.calloc(bindings, stack);
            for (int i = 0; i < bindings; i++) {
                b.get(i).binding(i).descriptorType(VK_DESCRIPTOR_TYPE_STORAGE_BUFFER).descriptorCount(1)
                        .stageFlags(VK_SHADER_STAGE_COMPUTE_BIT);
            }
            VulkanDevice.check(vkCreateDescriptorSetLayout(vk,
                    VkDescriptorSetLayoutCreateInfo.calloc(stack).sType$Default().pBindings(b), null, p), "vkCreateDescriptorSetLayout");
            setLayout = p.get(0);

            VkPushConstantRange.Buffer push = pushBytes == 0 ? null
                    : VkPushConstantRange.calloc(1, stack).stageFlags(VK_SHADER_STAGE_COMPUTE_BIT).offset(0).size(pushBytes);
            VulkanDevice.check(vkCreatePipelineLayout(vk, VkPipelineLayoutCreateInfo.calloc(stack).sType$Default()
                    .pSetLayouts(stack.longs(setLayout)).pPushConstantRanges(push), null, p), "vkCreatePipelineLayout");
            pipelineLayout = p.get(0);

            VkSpecializationInfo spec = null;
            if (specialization.length > 0) {
                VkSpecializationMapEntry.Buffer entries = VkSpecializationMapEntry.calloc(specialization.length, stack);
                for (int i = 0; i < specialization.length; i++) {
                    entries.get(i).constantID(i).offset(4 * i).size(4);
                }
                spec = VkSpecializationInfo.calloc(stack).pMapEntries(entries).pData(MemoryUtil.memByteBuffer(
                        stack.ints(specialization)));
            }
            VkComputePipelineCreateInfo.Buffer create = VkComputePipelineCreateInfo.calloc(1, stack)
                    .sType$Default()
                    .layout(pipelineLayout);
            create.stage().sType$Default().stage(VK_SHADER_STAGE_COMPUTE_BIT).module(module).pName(stack.UTF8("main"))
                    .pSpecializationInfo(spec);
            VulkanDevice.check(vkCreateComputePipelines(vk, VK_NULL_HANDLE, create, null, p), "vkCreateComputePipelines(" + shader + ")");
            pipeline = p.get(0);
            device.name(VK_OBJECT_TYPE_PIPELINE, pipeline, shader);

        } finally {
            MemoryUtil.memFree(spirv);
        }
    }

    private static ByteBuffer load(String shader) {
        String path = "shaders/" + shader + ".spv";
        try (InputStream in = ComputeKernel.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new VulkanException("shader " + path + " is not in the jar: build innerq-vulkan with Maven (it compiles src/main/glsl)");
            }
            byte[] bytes = in.readAllBytes();
            ByteBuffer buffer = MemoryUtil.memAlloc(bytes.length);
            buffer.put(bytes).flip();
            return buffer;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    public String name() {
        return name;
    }

    int pushBytes() {
        return pushBytes;
    }

    int bindings() {
        return bindings;
    }

    long setLayout() {
        return setLayout;
    }

    long pipeline() {
        return pipeline;
    }

    long layout() {
        return pipelineLayout;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        VkDevice vk = device.handle();
        vkDestroyPipeline(vk, pipeline, null);
        vkDestroyPipelineLayout(vk, pipelineLayout, null);
        vkDestroyDescriptorSetLayout(vk, setLayout, null);
        vkDestroyShaderModule(vk, module, null);
    }
}
